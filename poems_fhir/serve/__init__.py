# SPDX-License-Identifier: Apache-2.0
"""`poems-fhir serve`: a CDS Hooks 2.0 `patient-view` service on the same pure core as the sync job."""
