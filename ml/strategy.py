"""The active-learning order: which open task the Label Stream offers next, computed by
the prediction job from the new model's class probabilities and features.

Pure numpy and scikit-learn, no database: the prediction job (``ml.predicting``) feeds
it a batch of open tasks at a time and writes the priorities it returns to
``Task.al_priority``; ``bench/active_learning.py`` runs the same code on real data sets
to compare it with uniform sampling (figures in bench/README.md).

``Ranker`` (one per prediction job):

- ``add(ids, proba, features)`` per batch of open tasks: the uncertainty of each task
  (``ml.builtin.uncertainty``) and, with ``clusters`` > 1, its cluster (k-means on the
  model's small dense features, fitted on the first batch, at most ``clusters`` clusters
  of about 20 tasks or more) and, with ``density`` > 0, how typical it is of its cluster
  (cosine similarity to the cluster's centre, in [0, 1]; with one cluster: its mean
  cosine similarity to the first batch's tasks, "information density"). The default is
  one cluster: the plain margin order (see ``Strategy``).
- ``agree(same)`` per batch (only with ``stable`` > 0): which tasks kept the previous
  version's prediction; until that share reaches ``stable`` the order is withheld and
  the stream picks at random ("switch once the model settles"; off by default: it did
  not win on the bench's sets).
- Variants the bench tried (``Strategy.groups``, ``Strategy.badge``): groups by the
  predicted class (class balance) or cluster x class instead of clusters, and BADGE-like
  first picks (k-means++ seeding on gradient embeddings), Cluster-Margin's spread of only
  the ``top`` least sure over the clusters (round 4) and information density with one
  cluster; none held on every real set (bench/README.md).
- ``priorities()``: (ids, priority), lowest first. Within each cluster tasks are ranked
  by score (uncertainty, times typicality ** density), and the priority is that rank,
  with the score breaking ties: with clusters the stream takes the best task of every
  cluster before the second of any ("cluster margin", ``CLUSTER_MARGIN``); with one
  cluster the priority is the uncertainty order itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.builtin.base import uncertainty


@dataclass(frozen=True)
class Strategy:
    """The knobs of the order; ``DEFAULT`` is the product's, the best overall on the real
    sets of bench/active_learning.py with the text model of character n-grams
    (``ml.builtin.text``): plain margin, no clusters. Ranking within 16 k-means clusters
    (``CLUSTER_MARGIN``, the default before) fell up to 0.036 below uniform on the
    Debian set with that model (bench/README.md). The project's ``al_uncertainty``
    overrides ``measure``."""

    measure: str = "margin"
    clusters: int = 1
    density: float = 0.0
    # Serve an order only once the model has settled: at least this share of the open
    # tasks keep the previous version's prediction (0: always).
    stable: float = 0.0
    # Group by the predicted class instead of k-means clusters ("class"), or by both
    # ("both": cluster x class), so that early batches spread over the classes.
    groups: str = "kmeans"
    # BADGE-like: the first ``badge`` picks by k-means++ seeding on gradient embeddings
    # ((p - onehot(argmax p)) x features) of the ``badge_pool`` most uncertain tasks;
    # the rest in the cluster order.
    badge: int = 0
    badge_pool: int = 2000
    # Cluster-Margin (Citovsky et al., 2021): only the ``top`` most uncertain tasks are
    # spread over the clusters (each cluster's best first); every other task comes
    # after them in plain uncertainty order (0: all tasks go by the clusters).
    top: int = 0


DEFAULT = Strategy()
CLUSTER_MARGIN = Strategy(clusters=16)


class Ranker:
    def __init__(self, strategy: Strategy | None = None, *, measure: str | None = None) -> None:
        self.strategy = strategy or DEFAULT
        self.measure = measure or self.strategy.measure
        self.kmeans: Any = None  # sklearn's MiniBatchKMeans, fitted on the first batch
        self.ids: list[np.ndarray] = []
        self.scores: list[np.ndarray] = []
        self.clusters: list[np.ndarray] = []
        self.same = self.compared = 0
        self.embeddings: list[np.ndarray] = []  # (badge) the top candidates' gradients
        self.embedded: list[np.ndarray] = []  # their ids
        self.embedded_scores: list[np.ndarray] = []
        self.centre: np.ndarray | None = None  # (density, one cluster) mean unit vector

    def add(self, ids, proba, features=None) -> None:
        ids = np.asarray(ids)
        if not len(ids):
            return
        proba = np.asarray(proba, dtype=float)
        score = uncertainty(proba, self.measure)
        guess = proba.argmax(axis=1) if proba.ndim == 2 else np.zeros(len(ids), dtype=int)
        if self.strategy.badge and features is not None:
            self._embed(ids, proba, np.asarray(features, dtype=float), score)
        if self.strategy.groups == "class":
            self.clusters.append(guess)
        elif features is None or self.strategy.clusters <= 1:
            self.clusters.append(np.zeros(len(ids), dtype=int))
            if features is not None and self.strategy.density > 0:
                score = score * self._typicality(np.asarray(features, dtype=float))
        else:
            features = np.asarray(features, dtype=float)
            if self.kmeans is None:
                from sklearn.cluster import MiniBatchKMeans  # loaded by the first job

                k = max(1, min(self.strategy.clusters, len(features) // 20))
                self.kmeans = MiniBatchKMeans(
                    n_clusters=k, random_state=0, n_init=1, batch_size=1024, max_iter=50
                ).fit(features[:5000])
            labels = self.kmeans.predict(features)
            if self.strategy.groups == "both":
                self.clusters.append(labels * (proba.shape[1] if proba.ndim == 2 else 1) + guess)
            else:
                self.clusters.append(labels)
            if self.strategy.density > 0:
                centres = self.kmeans.cluster_centers_[labels]
                norms = np.linalg.norm(features, axis=1) * np.linalg.norm(centres, axis=1)
                cosine = (features * centres).sum(axis=1) / np.maximum(norms, 1e-12)
                score = score * np.clip(cosine, 0.0, 1.0) ** self.strategy.density
        self.ids.append(ids)
        self.scores.append(score)

    def _typicality(self, features: np.ndarray) -> np.ndarray:
        """Information density (Settles and Craven, 2008) with one cluster: each task's
        mean cosine similarity to the open tasks (those of the first batch), ``x/|x|``
        dotted with the mean of their unit vectors, clipped to [0, 1] and raised to
        ``density``."""
        unit = features / np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
        if self.centre is None:
            self.centre = unit.mean(axis=0)
        return np.clip(unit @ self.centre, 0.0, 1.0) ** self.strategy.density

    def _embed(self, ids, proba, features, score) -> None:
        """Keep the gradient embeddings of the ``badge_pool`` most uncertain tasks so far:
        the loss gradient of the last layer if the predicted class were the label."""
        onehot = np.zeros_like(proba)
        onehot[np.arange(len(proba)), proba.argmax(axis=1)] = 1.0
        grad = ((proba - onehot)[:, :, None] * features[:, None, :]).reshape(len(ids), -1)
        self.embeddings.append(grad)
        self.embedded.append(ids)
        self.embedded_scores.append(score)
        keep = self.strategy.badge_pool
        if sum(len(e) for e in self.embedded) > 2 * keep:
            grads, kept, scores = (
                np.concatenate(self.embeddings),
                np.concatenate(self.embedded),
                np.concatenate(self.embedded_scores),
            )
            top = np.argsort(-scores, kind="stable")[:keep]
            self.embeddings, self.embedded, self.embedded_scores = (
                [grads[top]],
                [kept[top]],
                [scores[top]],
            )

    def _badge_picks(self) -> np.ndarray:
        """Ids of the first picks: k-means++ seeding (D² sampling, seeded) on the kept
        gradient embeddings, starting from the largest gradient."""
        grads = np.concatenate(self.embeddings)
        kept = np.concatenate(self.embedded)
        scores = np.concatenate(self.embedded_scores)
        top = np.argsort(-scores, kind="stable")[: self.strategy.badge_pool]
        grads, kept = grads[top], kept[top]
        n = min(self.strategy.badge, len(kept))
        if n == 0:
            return kept[:0]
        rng = np.random.RandomState(0)
        first = int(np.argmax((grads**2).sum(axis=1)))
        chosen = [first]
        distance = ((grads - grads[first]) ** 2).sum(axis=1)
        while len(chosen) < n:
            total = distance.sum()
            if total <= 0:
                break
            nxt = int(rng.choice(len(grads), p=distance / total))
            chosen.append(nxt)
            distance = np.minimum(distance, ((grads - grads[nxt]) ** 2).sum(axis=1))
        return kept[chosen]

    def agree(self, same) -> None:
        """Count, for a batch, which tasks kept the previous model version's prediction."""
        same = np.asarray(same, dtype=bool)
        self.same += int(same.sum())
        self.compared += len(same)

    @property
    def settled(self) -> bool:
        if self.strategy.stable <= 0:
            return True
        return self.compared > 0 and self.same / self.compared >= self.strategy.stable

    def priorities(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, priority); none while the model has not settled (``stable``): the
        stream then picks at random."""
        if not self.ids or not self.settled:
            return np.zeros(0, dtype=int), np.zeros(0)
        ids = np.concatenate(self.ids)
        scores, clusters = np.concatenate(self.scores), np.concatenate(self.clusters)
        if 0 < self.strategy.top < len(ids):
            top = np.argsort(-scores, kind="stable")[: self.strategy.top]
            rest = np.ones(len(ids), dtype=bool)
            rest[top] = False
            priority = np.empty(len(ids))
            priority[top] = rank_in_clusters(scores[top], clusters[top])
            priority[rest] = len(top) + rank_in_clusters(
                scores[rest], np.zeros(int(rest.sum()), dtype=int)
            )
        else:
            priority = rank_in_clusters(scores, clusters)
        if self.strategy.badge and self.embedded:
            picks = self._badge_picks()
            position = {int(t): i for i, t in enumerate(picks)}
            first = np.array([position.get(int(t), -1) for t in ids])
            chosen = first >= 0
            priority[chosen] = first[chosen] - len(picks)  # before every other task
        return ids, priority


def rank_in_clusters(score: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """Priority (lowest first): the task's rank by ``score`` (highest first) within its
    cluster, plus ``(1 - score) * 0.999`` so that within a rank the higher score comes
    first. ``score`` is in [0, 1]."""
    order = np.lexsort((-score, clusters))
    ranks = np.empty(len(order), dtype=float)
    sorted_clusters = clusters[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_clusters)) + 1]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(order)
        ranks[order[start:end]] = np.arange(end - start)
    return ranks + (1.0 - np.clip(score, 0.0, 1.0)) * 0.999
