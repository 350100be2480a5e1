# SPDX-License-Identifier: Apache-2.0
"""Clinical text: precision/recall per ConText modifier on the corpus, and what text costs.

    python benchmarks/text_context.py [--patients 1000]

1. Precision and recall per assertion (present, negated, possible, hypothetical, historical, family)
   over tests/mapping/text_corpus (every target of every sentence; a missed or invented target counts
   against the label it should have had or was given). Known limitations are included.
2. Text engine throughput: corpus sentences per second (every one parsed), and report texts per
   second on a realistic mix where most texts name no target (prefilter at work).
3. The whole `evaluate` path on synthetic NDJSON patients with report conclusions and notes
   (benchmarks/evaluate_throughput.py's mix plus text): resources/s against plain json.loads, with
   the text engine and with it switched off. Pipeline loading is included once, as in a real run.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import random
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

from poems_fhir.criteria.profiles import MAYO
from poems_fhir.fhir.read import read_paths
from poems_fhir.mapping.rules import CompiledMapping, load_mapping
from poems_fhir.mapping.text import TextEngine, TextSection
from poems_fhir.pipeline import evaluate_record

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "mapping" / "text_corpus"
LABELS = ("present", "negated", "possible", "hypothetical", "historical", "family")

# conclusions as they come: most name nothing the criteria need
PLAIN = [
    "No acute cardiopulmonary abnormality.",
    "Normal study.",
    "Mild degenerative change of the lumbar spine.",
    "Small hiatus hernia.",
    "Lungs are clear. Heart size normal.",
    "Simple renal cyst, no follow-up needed.",
    "Заключение: без патологических изменений.",
    "Mild cardiomegaly.",
    "Gallbladder polyp 4 mm.",
]
WITH_TARGETS = [
    "No lymphadenopathy; splenomegaly 16 cm.",
    "No sclerotic or lytic bone lesions.",
    "Small bilateral pleural effusions and ascites.",
    "Склеротических очагов не выявлено.",
    "The liver is not enlarged, the spleen is enlarged.",
    "Castleman disease cannot be excluded.",
]


def corpus_scores(mapping: CompiledMapping) -> tuple[dict[str, tuple[float, float, int]], int, float]:
    entries = [e for p in sorted(CORPUS.glob("*.yaml")) for e in yaml.safe_load(p.read_text(encoding="utf-8"))]
    texts = [e["text"] for e in entries]
    mapping.text.assert_texts(texts[:1])  # build the pipelines outside the timing
    t = time.perf_counter()
    results = mapping.text.assert_texts(texts)
    rate = len(texts) / (time.perf_counter() - t)
    tp, fp, fn = Counter(), Counter(), Counter()
    for entry, assertions in zip(entries, results, strict=True):
        got: dict[str, str] = {}
        for a in assertions:
            got.setdefault(a.target, a.label)
        for target in set(got) | set(entry["expect"]):
            want, have = entry["expect"].get(target), got.get(target)
            if want == have:
                tp[want] += 1
                continue
            if have:
                fp[have] += 1
            if want:
                fn[want] += 1
    scores = {}
    for label in LABELS:
        p = tp[label] / (tp[label] + fp[label]) if tp[label] + fp[label] else float("nan")
        r = tp[label] / (tp[label] + fn[label]) if tp[label] + fn[label] else float("nan")
        scores[label] = (p, r, tp[label] + fn[label])
    return scores, len(entries), rate


def _throughput_module():
    spec = importlib.util.spec_from_file_location("evaluate_throughput", ROOT / "benchmarks" / "evaluate_throughput.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("benchmarks/evaluate_throughput.py not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def add_texts(folder: Path, patients: int, seed: int = 11) -> int:
    """Per patient: 3 imaging reports and 2 notes; about one text in five names a target."""
    rnd = random.Random(seed)
    n = 0
    with (
        (folder / "DiagnosticReport.ndjson").open("w") as reports,
        (folder / "Observation-notes.ndjson").open("w") as obs,
    ):
        for p in range(patients):
            for k in range(3):
                text = rnd.choice(WITH_TARGETS) if rnd.random() < 0.2 else " ".join(rnd.sample(PLAIN, 3))
                reports.write(
                    json.dumps(
                        {
                            "resourceType": "DiagnosticReport",
                            "id": f"dr{p}-{k}",
                            "status": "final",
                            "code": {"text": rnd.choice(["CT chest abdomen pelvis", "MRI spine", "X-ray chest"])},
                            "subject": {"reference": f"Patient/p{p}"},
                            "effectiveDateTime": "2024-01-05",
                            "conclusion": text,
                        }
                    )
                    + "\n"
                )
                n += 1
            for k in range(2):
                text = rnd.choice(WITH_TARGETS) if rnd.random() < 0.2 else rnd.choice(PLAIN)
                obs.write(
                    json.dumps(
                        {
                            "resourceType": "Observation",
                            "id": f"on{p}-{k}",
                            "status": "final",
                            "code": {"text": "Clinical note"},
                            "subject": {"reference": f"Patient/p{p}"},
                            "effectiveDateTime": "2024-01-06",
                            "valueString": text,
                        }
                    )
                    + "\n"
                )
                n += 1
    return n


def evaluate_path(patients: int) -> None:
    module = _throughput_module()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        n = module.generate(folder, patients) + add_texts(folder, patients)
        t = time.perf_counter()
        count = 0
        for f in sorted(folder.glob("*.ndjson")):
            for line in f.read_text().splitlines():
                json.loads(line)
                count += 1
        plain = count / (time.perf_counter() - t)
        read_t = time.perf_counter()
        read = read_paths([folder])
        read_s = time.perf_counter() - read_t
        print(f"  patients: {patients}, resources: {n} (of which {5 * patients} carry text)")
        print(f"  json.loads only:                      {plain:>10,.0f} resources/s")
        for name, with_text in (
            ("mapping + evaluation, text engine on ", True),
            ("mapping + evaluation, text engine off", False),
        ):
            mapping = load_mapping()  # a fresh run: pipelines load once, inside the timing
            if not with_text:
                mapping = dataclasses.replace(mapping, text=TextEngine(TextSection()))
            t = time.perf_counter()
            for record in read.records:
                evaluate_record(record, mapping, MAYO, None)
            eval_s = time.perf_counter() - t
            print(
                f"  {name}: {n / eval_s:>10,.0f} resources/s ({n / eval_s / plain:.2f} x json.loads; "
                f"whole path incl. reading {n / (eval_s + read_s) / plain:.2f} x)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    args = parser.parse_args()
    mapping = load_mapping()
    t = time.perf_counter()
    mapping.text.assert_texts(["No sclerotic lesions.", "Склеротических очагов не выявлено."])
    print(f"pipelines loaded (latin + cyrillic) in {time.perf_counter() - t:.2f} s")
    scores, count, rate = corpus_scores(mapping)
    print(f"corpus: {count} sentences, {rate:,.0f} sentences/s (every one parsed)")
    print(f"  {'assertion':<13} {'precision':>9} {'recall':>7} {'n':>4}")
    for label, (p, r, support) in scores.items():
        print(f"  {label:<13} {p:>9.2f} {r:>7.2f} {support:>4}")
    texts = [
        " ".join(random.Random(i).sample(PLAIN, 3)) if i % 5 else WITH_TARGETS[i % len(WITH_TARGETS)]
        for i in range(5000)
    ]
    t = time.perf_counter()
    mapping.text.assert_texts(texts)
    print(f"report texts, 1 in 5 naming a target: {len(texts) / (time.perf_counter() - t):,.0f} texts/s")
    print("evaluate path:")
    evaluate_path(args.patients)


if __name__ == "__main__":
    main()
