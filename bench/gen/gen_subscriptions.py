#!/usr/bin/env python3
"""Write K keyword subscriptions for the digest benchmark.

Usage: gen_subscriptions.py K [--seed S] [-o FILE] [--per-user 10]

Output: one subscription per line, tab-separated:
    subscriber<TAB>field<TAB>term
field is "any" (match title + abstract) or "author" (match the author list).
Terms are realistic ML keywords: single words and acronyms ("diffusion",
"LoRA"), multi-word phrases ("graph neural network"), combined phrases
("sparse mixture of experts", "transformer for time series forecasting"),
terms absent from the synthetic corpus ("Kolmogorov-Arnold network"), and
about 5% author names (some non-ASCII). Each subscriber holds ~per-user
terms. Terms are unique up to K ~ 10,000+. Python 3 standard library only;
deterministic per seed.

paperwatch copy (bench/gen/): the distinct terms run out near K = 63,800
(the original then loops for ever); after MAX_MISSES draws of terms already
used, a row now takes a repeated term (popular interests shared by many
subscribers). Output for smaller K is byte-identical to the original.
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _corpus as C  # noqa: E402

MAX_MISSES = 1000  # paperwatch: see the docstring

SINGLE = [
    "diffusion", "transformer", "attention", "LLM", "RLHF", "LoRA", "RAG", "MoE",
    "quantization", "distillation", "pruning", "tokenizer", "benchmark", "alignment",
    "hallucination", "jailbreak", "interpretability", "robustness", "calibration",
    "privacy", "fairness", "agents", "reasoning", "multimodal", "segmentation",
    "retrieval", "embedding", "contrastive", "generative", "autoregressive",
    "Mamba", "KAN", "NeRF", "CLIP", "BERT", "GPT", "ViT", "U-Net", "GFlowNet",
    "speculative", "watermark", "unlearning", "memorization", "grokking",
    "sparsity", "equivariance", "Bayesian", "causal", "federated", "robotics",
]
ABSENT = [  # plausible interests that the synthetic corpus never mentions
    "Kolmogorov-Arnold network", "hyperdimensional computing", "spiking neural network",
    "neuromorphic hardware", "liquid neural network", "tensor network",
    "quantum machine learning", "reservoir computing", "capsule network",
    "Hopfield network", "symbolic regression", "program repair",
    "weather nowcasting", "satellite imagery", "legal NLP", "clinical notes",
    "sign language", "music generation", "chess engine", "protein folding",
]


def term_stream(rng):
    """Yield candidate terms, most 'real' first, then ever-longer combinations."""
    base = SINGLE + C.METHODS + C.TASKS + C.PROPERTIES + ABSENT
    rng.shuffle(base)
    yield from base
    combos = []
    for a in C.ADJ:
        for m in C.METHODS:
            combos.append(f"{a} {m}")
    for m in C.METHODS:
        for t in C.TASKS:
            combos.append(f"{m} for {t}")
    for p in C.PROPERTIES:
        for m in C.METHODS:
            combos.append(f"{p} of {m}")
    rng.shuffle(combos)
    yield from combos
    while True:  # unbounded tail: adj + method + task
        yield f"{rng.choice(C.ADJ)} {rng.choice(C.METHODS)} for {rng.choice(C.TASKS)}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("k", type=int, help="number of subscriptions (lines)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--per-user", type=int, default=10)
    a = ap.parse_args()

    rng = random.Random(a.seed)
    out = sys.stdout if a.output == "-" else open(a.output, "w", encoding="utf-8", newline="\n")
    seen = set()
    terms = term_stream(random.Random(a.seed + 1))
    for i in range(a.k):
        user = f"user{i // max(a.per_user, 1):05d}@example.org"
        if rng.random() < 0.05:
            field = "author"
            term = C.person(rng)
        else:
            field = "any"
            term = next(terms)
            misses = 0
            while term.lower() in seen and misses < MAX_MISSES:
                term = next(terms)
                misses += 1
            seen.add(term.lower())
        out.write(f"{user}\t{field}\t{term}\n")
    if out is not sys.stdout:
        out.close()


if __name__ == "__main__":
    main()
