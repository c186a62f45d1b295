"""A multinomial naive Bayes over word and character n-grams, in plain Python.

Why our own: the product installs no scikit-learn, the labelled set is under a thousand rows
(training takes milliseconds), and character trigrams keep a thumb's typo ("intrested") close
to the word it misses.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

_WORD = re.compile(r"[a-z0-9']+")


def features(text: str) -> Counter[str]:
    words = _WORD.findall(text.lower())
    feats: Counter[str] = Counter(f"w:{w}" for w in words)
    feats.update(f"b:{a}_{b}" for a, b in pairwise(words))
    for w in words:
        padded = f" {w} "
        feats.update(f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2))
    return feats


@dataclass(frozen=True)
class NaiveBayes:
    priors: dict[str, float]
    log_probs: dict[str, dict[str, float]]
    unseen: dict[str, float]

    @classmethod
    def train(cls, examples: Iterable[tuple[str, str]], alpha: float = 0.3) -> NaiveBayes:
        counts: dict[str, Counter[str]] = {}
        docs: Counter[str] = Counter()
        for text, label in examples:
            docs[label] += 1
            counts.setdefault(label, Counter()).update(features(text))
        if not docs:
            raise ValueError("naive Bayes needs at least one labelled example")
        vocab = set().union(*counts.values())
        total = sum(docs.values())
        log_probs: dict[str, dict[str, float]] = {}
        unseen: dict[str, float] = {}
        for label, c in counts.items():
            denom = sum(c.values()) + alpha * len(vocab)
            log_probs[label] = {f: math.log((n + alpha) / denom) for f, n in c.items()}
            unseen[label] = math.log(alpha / denom)
        priors = {label: math.log(n / total) for label, n in docs.items()}
        return cls(priors=priors, log_probs=log_probs, unseen=unseen)

    def scores(self, text: str) -> dict[str, float]:
        """Posterior probability of each label (softmax of the log scores)."""
        feats = features(text)
        raw = {}
        for label, prior in self.priors.items():
            lp, miss = self.log_probs[label], self.unseen[label]
            raw[label] = prior + sum(n * lp.get(f, miss) for f, n in feats.items())
        top = max(raw.values())
        exp = {k: math.exp(v - top) for k, v in raw.items()}
        z = sum(exp.values())
        return {k: v / z for k, v in exp.items()}

    def predict(self, text: str) -> tuple[str, float]:
        s = self.scores(text)
        label = max(s, key=lambda k: s[k])
        return label, s[label]
