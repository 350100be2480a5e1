# SPDX-License-Identifier: Apache-2.0
"""The published sources behind every label, cited to clinicians as Author Year.

Taken from the project's clinical reference list; nothing here is added from memory. Where the
reference names no author, the citation names the journal and year instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    key: str
    cite: str  # short, as shown beside a label: "Dispenzieri 2023"
    reference: str  # full reference


SOURCES: dict[str, Source] = {
    s.key: s
    for s in (
        Source(
            "D2003",
            "Dispenzieri 2003",
            "Dispenzieri A, Kyle RA, Lacy MQ, et al. POEMS syndrome: definitions and "
            "long-term outcome. Blood 2003;101(7):2496-2506.",
        ),
        Source(
            "D2008",
            "Dispenzieri 2008",
            "Dispenzieri A, et al. Peripheral blood stem cell transplantation for POEMS "
            "syndrome is associated with high rates of engraftment syndrome. Eur J Haematol 2008;80(5):397-406.",
        ),
        Source(
            "D2012HIT", "Dispenzieri 2012", "Dispenzieri A. How I treat POEMS syndrome. Blood 2012;119(24):5650-5658."
        ),
        Source(
            "D2019",
            "Dispenzieri 2019",
            "Dispenzieri A. POEMS syndrome: 2019 update on diagnosis, "
            "risk-stratification, and management. Am J Hematol 2019.",
        ),
        Source(
            "D2023",
            "Dispenzieri 2023",
            "Dispenzieri A. POEMS syndrome: Update on diagnosis, risk-stratification, "
            "and management. Am J Hematol 2023. doi:10.1002/ajh.27081.",
        ),
        Source(
            "DS2011",
            "D'Souza 2011",
            "D'Souza A, et al. The utility of plasma vascular endothelial growth factor "
            "levels in the diagnosis and follow-up of patients with POEMS syndrome. Blood 2011;118(17):4663.",
        ),
        Source(
            "DS2012",
            "D'Souza 2012",
            "D'Souza A, et al. Long-term outcomes after autologous stem cell "
            "transplantation for patients with POEMS syndrome. Blood 2012;120(1):56.",
        ),
        Source(
            "Suichi2019",
            "Suichi 2019",
            "Suichi T, et al. Proposal of new clinical diagnostic criteria for POEMS "
            "syndrome. J Neurol Neurosurg Psychiatry 2019;90(2):133.",
        ),
        Source(
            "Wang2017",
            "Wang 2017",
            "Wang C, et al. Prognostic study for overall survival in patients with newly "
            "diagnosed POEMS syndrome. Leukemia 2017. doi:10.1038/leu.2016.168.",
        ),
        Source(
            "WangPH2013",
            "Haematologica 2013",
            "Pulmonary hypertension in POEMS syndrome (154 patients). Haematologica 2013;98(3):393-398.",
        ),
        Source(
            "Kourelis2016",
            "Kourelis 2016",
            "Kourelis TV, et al. Risk factors for and outcomes of patients with "
            "POEMS syndrome who experience progression after first-line treatment (262 patients).",
        ),
        Source(
            "Chiba2008",
            "Blood 2008 (Chiba)",
            "ASCT for POEMS, Chiba University (ASH abstract). Blood 2008;112(11):4434.",
        ),
        Source(
            "MDACC2011",
            "Blood 2011 (MD Anderson)",
            "Durable responses with auto-HCT in POEMS, MD Anderson (ASH abstract). Blood 2011;118(21):4522.",
        ),
        Source(
            "Mellors2021",
            "Mellors 2021",
            "Mellors PW, et al. Thrombosis in POEMS syndrome (230 patients). Am J Hematol 2021.",
        ),
        Source(
            "Naddaf2015",
            "Muscle Nerve 2015",
            "Thrombocytosis distinguishes POEMS syndrome from chronic "
            "inflammatory demyelinating polyradiculoneuropathy. Muscle Nerve 2015;52(4):658-659.",
        ),
        Source(
            "Pihan2018",
            "Pihan 2018",
            "Pihan M, et al. Raised VEGF: high sensitivity and specificity in the "
            "diagnosis of POEMS syndrome. Neurol Neuroimmunol Neuroinflamm 2018;5(5):e486.",
        ),
        Source(
            "Misawa2015",
            "Misawa 2015",
            "Misawa S, et al. Vascular endothelial growth factor as a predictive marker "
            "for POEMS syndrome treatment response. BMJ Open 2015;5(11):e009157.",
        ),
        Source(
            "Gentile2024",
            "Gentile 2024",
            "Gentile F, et al. Regular assessment of serum VEGF to monitor POEMS "
            "syndrome. Neurol Sci 2024;45(2):727-733.",
        ),
        Source(
            "DSa2022",
            "D'Sa 2022",
            "D'Sa S, et al. Comprehensive diagnosis and management of POEMS syndrome. HemaSphere 2022;6(11):e796.",
        ),
        Source(
            "Keddie2018",
            "Keddie 2018",
            "Keddie S, Lunn MP. POEMS syndrome. J Neurol 2018. doi:10.1007/s00415-018-9110-6.",
        ),
        Source(
            "Nozza2017",
            "Nozza 2017",
            "Nozza A. POEMS syndrome: an update. Mediterr J Hematol Infect Dis 2017;9(1):e2017051.",
        ),
        Source("CIBMTR-AL", "CIBMTR", "CIBMTR Forms Instruction Manual: amyloidosis response criteria."),
        Source(
            "CurrOncol2023",
            "Curr Oncol 2023",
            "IMWG response criteria as reproduced in Curr Oncol 2023 (PMC9954856, table 1).",
        ),
        Source(
            "IMWG2014",
            "Rajkumar 2014",
            "Rajkumar SV, et al. International Myeloma Working Group updated criteria "
            "for the diagnosis of multiple myeloma. Lancet Oncol 2014;15(12):e538-e548.",
        ),
    )
}


def cite(keys: tuple[str, ...]) -> str:
    """ "Dispenzieri 2023; D'Souza 2011"."""
    return "; ".join(SOURCES[k].cite for k in keys)
