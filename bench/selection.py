"""Budget-optimal selection: 1,000 candidates, two envelopes (goal: < 2 s, proven optimal)."""

import random
import time

import _common  # noqa: F401

from jury.algorithms.selection import Candidate, Envelope, select

CANDIDATES = 1000


def main():
    rng = random.Random(7)
    candidates = [
        Candidate(
            id=n,
            track="technique" if n % 5 else "scientifique",
            score=round(rng.uniform(20, 95), 2),
            amount=rng.randrange(50, 450) * 1000,
        )
        for n in range(CANDIDATES)
    ]
    envelopes = {
        "technique": Envelope(budget=3_500_000, max_count=11),
        "scientifique": Envelope(budget=500_000, max_count=4),
    }
    started = time.perf_counter()
    result = select(candidates=candidates, envelopes=envelopes)
    seconds = time.perf_counter() - started
    _common.emit(
        {"candidates": CANDIDATES, "envelopes": len(envelopes), "seconds": round(seconds, 3), "optimal": result.optimal}
    )


if __name__ == "__main__":
    main()
