# SPDX-License-Identifier: Apache-2.0
"""The resource type names of FHIR R4 (4.0.1): a ``resourceType`` outside them is no resource - a typo
("Observaton") would otherwise be skipped as a type the mapping does not read, without a word (probe32)."""

from __future__ import annotations

import difflib
from functools import lru_cache

#: FHIR R4 4.0.1, "Resource Index"
R4_RESOURCE_TYPES = frozenset(
    """
    Account ActivityDefinition AdverseEvent AllergyIntolerance Appointment AppointmentResponse
    AuditEvent Basic Binary BiologicallyDerivedProduct BodyStructure Bundle CapabilityStatement CarePlan
    CareTeam CatalogEntry ChargeItem ChargeItemDefinition Claim ClaimResponse ClinicalImpression
    CodeSystem Communication CommunicationRequest CompartmentDefinition Composition ConceptMap Condition
    Consent Contract Coverage CoverageEligibilityRequest CoverageEligibilityResponse DetectedIssue
    Device DeviceDefinition DeviceMetric DeviceRequest DeviceUseStatement DiagnosticReport
    DocumentManifest DocumentReference EffectEvidenceSynthesis Encounter Endpoint EnrollmentRequest
    EnrollmentResponse EpisodeOfCare EventDefinition Evidence EvidenceVariable ExampleScenario
    ExplanationOfBenefit FamilyMemberHistory Flag Goal GraphDefinition Group GuidanceResponse
    HealthcareService ImagingStudy Immunization ImmunizationEvaluation ImmunizationRecommendation
    ImplementationGuide InsurancePlan Invoice Library Linkage List Location Measure MeasureReport Media
    Medication MedicationAdministration MedicationDispense MedicationKnowledge MedicationRequest
    MedicationStatement MedicinalProduct MedicinalProductAuthorization MedicinalProductContraindication
    MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction
    MedicinalProductManufactured MedicinalProductPackaged MedicinalProductPharmaceutical
    MedicinalProductUndesirableEffect MessageDefinition MessageHeader MolecularSequence NamingSystem
    NutritionOrder Observation ObservationDefinition OperationDefinition OperationOutcome Organization
    OrganizationAffiliation Parameters Patient PaymentNotice PaymentReconciliation Person PlanDefinition
    Practitioner PractitionerRole Procedure Provenance Questionnaire QuestionnaireResponse RelatedPerson
    RequestGroup ResearchDefinition ResearchElementDefinition ResearchStudy ResearchSubject
    RiskAssessment RiskEvidenceSynthesis Schedule SearchParameter ServiceRequest Slot Specimen
    SpecimenDefinition StructureDefinition StructureMap Subscription Substance SubstanceNucleicAcid
    SubstancePolymer SubstanceProtein SubstanceReferenceInformation SubstanceSourceMaterial
    SubstanceSpecification SupplyDelivery SupplyRequest Task TerminologyCapabilities TestReport
    TestScript ValueSet VerificationResult VisionPrescription
    """.split()
)


@lru_cache(maxsize=1024)
def is_resource_type(name: str) -> bool:
    """An R4 resource type, or one a later release (R4B, which fhir.resources models) added."""
    if name in R4_RESOURCE_TYPES:
        return True
    from fhir.resources.R4B import get_fhir_model_class  # only for the rare name R4 does not know

    try:
        model = get_fhir_model_class(name)
    except (ValueError, AttributeError, ImportError):
        return False
    return any(base.__name__ == "Resource" for base in model.__mro__)  # not a data type (Quantity)


def closest_type(name: str) -> str | None:
    """The R4 type a misspelt name most likely means ("Observaton" -> "Observation"), if any."""
    by_case = {t.lower(): t for t in R4_RESOURCE_TYPES}
    if name.lower() in by_case:
        return by_case[name.lower()]
    match = difflib.get_close_matches(name, R4_RESOURCE_TYPES, n=1, cutoff=0.8)
    return match[0] if match else None


def type_problem(name: str, well_formed: bool) -> str | None:
    """Why ``resourceType`` ``name`` is no resource (``well_formed``: it looks like a type name), or
    None for a resource type."""
    if not well_formed:
        return f"not a FHIR resource: resourceType {name[:40]!r} is not a resource type name"
    if is_resource_type(name):
        return None
    guess = closest_type(name)
    hint = f" - did you mean {guess}?" if guess else ""
    return f"not a FHIR resource: resourceType {name[:40]!r} is no FHIR R4 resource type{hint}; not read"
