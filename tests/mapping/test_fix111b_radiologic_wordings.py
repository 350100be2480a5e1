"""probe111 D2: more wordings of new or more numerous lesions on an imaging report raise the radiological
progression (criteria.md §8.3, §8.5), while their denials do not."""

from __future__ import annotations

import pytest

from poems_fhir.criteria.model import State
from tests.mapping.test_radiologic_progression import states


@pytest.mark.parametrize(
    "conclusion",
    [
        "Two additional sclerotic lesions have appeared in the pelvis.",
        "Increased number of sclerotic lesions.",
        "Newly appeared sclerotic focus in the right ilium.",
        "The number of FDG-avid lesions has increased.",
        "Increased number of FDG-avid bone lesions compared with the prior study.",
        "Увеличение количества очагов.",
        "Впервые выявленный очаг в L2.",
        "Впервые выявленный склеротический очаг в подвздошной кости.",
        "Количество очагов увеличилось.",
    ],
)
def test_more_wordings_of_new_lesions_are_progression(mapping, conclusion):
    assert states(mapping, "PET-CT whole body", conclusion)["radiologic_progression"] is State.PRESENT


@pytest.mark.parametrize(
    "conclusion",
    [
        "No increase in the number of lesions.",
        "No additional sclerotic lesions.",
        "The number of lesions has not increased.",
        "No newly appeared lesions.",
        "Дополнительных очагов не выявлено.",
        "Впервые выявленных очагов нет.",
        "Additional views of the known sclerotic lesion in L3.",
        # probe113 D1: "additional" alone - to the lesions described, or new? - is no progression
        "Stable additional lesions.",
        "Previously described additional lesion is stable.",
        "Two additional sclerotic lesions, known since 2021, unchanged in size.",
        "The additional lesion in L2 described in 2021 is unchanged.",
        "Two additional sclerotic lesions were already present on the baseline PET and are unchanged.",
        "Известные дополнительные склеротические очаги без изменений.",
        "Дополнительные склеротические очаги в костях таза.",
    ],
)
def test_their_denials_are_no_progression(mapping, conclusion):
    assert states(mapping, "PET-CT whole body", conclusion).get("radiologic_progression") is not State.PRESENT
