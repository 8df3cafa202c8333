"""Character n-grams of folded text as numbers, and their TF-IDF vectors, in numpy.

The learned model (:mod:`.learned`) reads a passage as the character 1- to 3-grams of its
folded form (:func:`~beicoder.core.suggest.lexicon.fold`: Simplified script, NFKC, lower
case), white space as one space and the text padded with a space at each end, so the first
and last characters make n-grams of their own. No segmentation: jieba never runs on the
model's path.

An n-gram is one 64-bit integer: each character's code point plus one takes 21 bits, the
first character highest, so n-grams of different lengths never share a number. A text's
n-grams are computed for many texts at once with array operations, which keeps scoring a
large study well under the time jieba takes to segment it.

Vectors are TF-IDF as in scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``: ``1 + log(tf)``
times ``idf = 1 + log((1 + n) / (1 + df))``, each row scaled to unit length. Only n-grams in
at least ``min_df`` training texts are features.
"""

from __future__ import annotations

from collections.abc import Sequence

BITS = 21  # a code point plus one fits in 21 bits (at most 0x110000)
PAD = " "


def _codes(texts: Sequence[str]):
    """The padded texts as one array of code points plus one, with each position's text
    index: ``(codes, doc)``; white space becomes a space (same length, so offsets hold)."""
    import numpy as np

    joined = "".join(PAD + t + PAD for t in texts)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    space = ord(PAD)
    # every white-space character reads as one space (\n, \t, the ideographic space folded before)
    for ws in ("\n", "\r", "\t", "\x0b", "\x0c"):
        codes[codes == ord(ws)] = space
    lengths = np.fromiter((len(t) + 2 for t in texts), dtype=np.int64, count=len(texts))
    doc = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    return codes + 1, doc


def ngram_keys(texts: Sequence[str], n_min: int = 1, n_max: int = 3, where: bool = False):
    """Every n-gram (``n_min`` to ``n_max`` characters) of every padded text.

    Returns ``(keys, doc)``, the n-gram's number and its text's index, one entry per
    occurrence, as numpy arrays; with ``where`` also ``(pos, size)``: its start in its text
    (0 is the text's first character, -1 the padding before it) and its length."""
    import numpy as np

    codes, doc = _codes(texts)
    total = len(codes)
    keys, docs, poss, sizes = [], [], [], []
    if where:
        lengths = np.fromiter((len(t) + 2 for t in texts), dtype=np.int64, count=len(texts))
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    for n in range(n_min, n_max + 1):
        if total < n:
            continue
        span = total - n + 1
        k = codes[:span].copy()
        for j in range(1, n):
            k <<= BITS
            k |= codes[j:span + j]
        idx = np.flatnonzero(doc[:span] == doc[n - 1:])
        keys.append(k[idx])
        docs.append(doc[idx])
        if where:
            poss.append(idx - starts[doc[idx]] - 1)
            sizes.append(np.full(len(idx), n, dtype=np.int64))
    empty = np.zeros(0, dtype=np.int64)
    out = (np.concatenate(keys) if keys else empty, np.concatenate(docs) if docs else empty)
    if where:
        out += (np.concatenate(poss) if poss else empty, np.concatenate(sizes) if sizes else empty)
    return out


def key_text(key: int) -> str:
    """The characters of the n-gram numbered ``key``."""
    chars = []
    key = int(key)
    while key:
        chars.append(chr((key & ((1 << BITS) - 1)) - 1))
        key >>= BITS
    return "".join(reversed(chars))


CHUNK = 2000  # texts handled at once: bounds the memory of long studies


def _present(keys, doc):
    """The distinct (text, n-gram) pairs of ``keys``/``doc`` with their counts, sorted by
    text then n-gram: ``(doc, key, count)``."""
    import numpy as np

    order = np.lexsort((keys, doc))
    keys, doc = keys[order], doc[order]
    new = np.ones(len(keys), dtype=bool)
    new[1:] = (keys[1:] != keys[:-1]) | (doc[1:] != doc[:-1])
    first = np.flatnonzero(new)
    counts = np.diff(np.append(first, len(keys)))
    return doc[first], keys[first], counts


class Vocabulary:
    """The features of a model: sorted n-gram numbers ``keys`` and their ``idf`` (numpy
    arrays), n-grams of ``n_min`` to ``n_max`` characters."""

    def __init__(self, keys, idf, n_min: int = 1, n_max: int = 3):
        self.keys = keys
        self.idf = idf
        self.n_min = n_min
        self.n_max = n_max

    @classmethod
    def fit(cls, folded: Sequence[str], n_min: int = 1, n_max: int = 3, min_df: int = 2) -> Vocabulary:
        """The n-grams found in at least ``min_df`` of the ``folded`` texts, with their idf."""
        import numpy as np

        found, dfs = [], []
        for k in range(0, len(folded), CHUNK):
            keys, doc = ngram_keys(folded[k:k + CHUNK], n_min, n_max)
            _, present, _ = _present(keys, doc)
            uniq, df = np.unique(present, return_counts=True)
            found.append(uniq)
            dfs.append(df)
        if not found:
            return cls(np.zeros(0, dtype=np.int64), np.zeros(0), n_min, n_max)
        allkeys = np.concatenate(found)
        order = np.argsort(allkeys, kind="stable")
        allkeys, alldf = allkeys[order], np.concatenate(dfs)[order]
        new = np.ones(len(allkeys), dtype=bool)
        new[1:] = allkeys[1:] != allkeys[:-1]
        first = np.flatnonzero(new)
        uniq, df = allkeys[first], np.add.reduceat(alldf, first) if len(first) else alldf
        keep = df >= min_df
        idf = 1.0 + np.log((1.0 + len(folded)) / (1.0 + df[keep]))
        return cls(uniq[keep], idf.astype(np.float64), n_min, n_max)

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, keys):
        """The feature index of each n-gram number in ``keys``, -1 for n-grams that are not
        features (a numpy array)."""
        import numpy as np

        if not len(self.keys):
            return np.full(len(keys), -1, dtype=np.int64)
        feat = np.searchsorted(self.keys, keys)
        feat[feat == len(self.keys)] = 0
        return np.where(self.keys[feat] == keys, feat, -1)

    def _chunk(self, part: Sequence[str]):
        """TF-IDF entries of at most ``CHUNK`` texts: ``(doc, feature, value)``, sorted."""
        import numpy as np

        keys, doc = ngram_keys(part, self.n_min, self.n_max)
        feat = self.lookup(keys)
        known = feat >= 0
        del keys
        width = max(len(self.keys), 1)
        pairs, counts = np.unique(doc[known] * width + feat[known], return_counts=True)
        del doc, feat, known
        d, f = pairs // width, pairs % width
        value = (1.0 + np.log(counts)) * self.idf[f]
        norm = np.sqrt(np.bincount(d, weights=value * value, minlength=len(part)))
        return d, f, value / norm[d]

    def entries(self, folded: Sequence[str]):
        """The TF-IDF entries of the ``folded`` texts: ``(doc, feature, value)`` arrays, one
        per (text, feature) present, sorted by text, rows of unit length."""
        import numpy as np

        ds, fs, vs = [], [], []
        for k in range(0, len(folded), CHUNK):
            d, f, v = self._chunk(folded[k:k + CHUNK])
            ds.append(d + k)
            fs.append(f)
            vs.append(v)
        if not ds:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        return np.concatenate(ds), np.concatenate(fs), np.concatenate(vs)

    def matrix(self, folded: Sequence[str]):
        """The TF-IDF matrix of the ``folded`` texts (scipy CSR of float32, one row per text;
        built a chunk of texts at a time, so a large study needs little more than the
        matrix)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        fs, vs, rows = [], [], [np.zeros(1, dtype=np.int64)]
        for k in range(0, len(folded), CHUNK):
            part = folded[k:k + CHUNK]
            d, f, v = self._chunk(part)
            fs.append(f.astype(np.int32))
            vs.append(v.astype(np.float32))  # liblinear reads float32 as it is: half the memory
            rows.append(np.bincount(d, minlength=len(part)))
            del d, f, v
        indptr = np.cumsum(np.concatenate(rows))
        indices = np.concatenate(fs) if fs else np.zeros(0, dtype=np.int32)
        del fs
        data = np.concatenate(vs) if vs else np.zeros(0, dtype=np.float32)
        del vs
        return csr_matrix((data, indices, indptr), shape=(len(folded), len(self.keys)), copy=False)
