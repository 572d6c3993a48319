"""Assignment of 2,000 proposals to 200 jurors, 3 reviews each, 5 % random conflicts (goal: < 5 s, imbalance ≤ 1)."""

import random
import time

import _common  # noqa: F401  (puts the repository on sys.path)

from jury.algorithms.assignment import assign

PROPOSALS, JURORS, K, CONFLICT_RATE = 2000, 200, 3, 0.05


def main():
    rng = random.Random(42)
    items, reviewers = list(range(PROPOSALS)), [f"j{n}" for n in range(JURORS)]
    conflicts = {(i, r) for i in items for r in reviewers if rng.random() < CONFLICT_RATE}
    started = time.perf_counter()
    result = assign(items=items, reviewers=reviewers, k=K, conflicts=conflicts)
    seconds = time.perf_counter() - started
    assert not conflicts & set(result.pairs)
    _common.emit(
        {
            "proposals": PROPOSALS,
            "jurors": JURORS,
            "reviews_per_proposal": K,
            "conflict_rate": CONFLICT_RATE,
            "seconds": round(seconds, 3),
            "imbalance": result.imbalance,
            "coverage": result.coverage,
        }
    )


if __name__ == "__main__":
    main()
