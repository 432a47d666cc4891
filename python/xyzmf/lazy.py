"""Arrays that stay in the file until indexed: load(path, lazy=True) gives these for
datasets over LAZY_BYTES (spins, structure factors), so a file of any size opens at
once and only what is looked at is read. They keep the file open while they live."""
import numpy as np

LAZY_BYTES = 1 << 14


def _full_key(key, ndim):
    """key as a tuple of ndim ints/slices (Ellipsis expanded, missing axes whole)."""
    key = key if isinstance(key, tuple) else (key,)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + (slice(None),) * (ndim - len(key) + 1) + key[i + 1:]
    return key + (slice(None),) * (ndim - len(key))


class LazyDataset:
    """One dataset of an open HDF5 file: a[...] reads it (or the part indexed)."""

    def __init__(self, dataset):
        self.file, self.name = dataset.file, dataset.name
        self.shape, self.dtype = tuple(dataset.shape), dataset.dtype

    ndim = property(lambda self: len(self.shape))

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        return self.file[self.name][_full_key(key, self.ndim) if self.ndim else ()]

    def __array__(self, dtype=None):
        a = np.asarray(self[()] if not self.ndim else self[...])
        return a if dtype is None else a.astype(dtype)

    def __repr__(self):
        return f"<lazy {self.name} {self.shape} {self.dtype} in {self.file.filename}>"


class LazyStack:
    """Datasets of one shape and type along a new first axis (the snapshots' spins)."""

    def __init__(self, parts):
        self.parts = parts
        self.shape, self.dtype = (len(parts),) + parts[0].shape, parts[0].dtype

    ndim = property(lambda self: len(self.shape))

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, key):
        first, *rest = _full_key(key, self.ndim)
        if isinstance(first, (int, np.integer)):
            return self.parts[first][tuple(rest)]
        picked = [self.parts[i][tuple(rest)] for i in range(len(self.parts))[first]]
        if not picked:
            return np.empty((0,) + np.empty(self.parts[0].shape)[tuple(rest)].shape, self.dtype)
        return np.stack(picked)

    def __array__(self, dtype=None):
        a = self[...]
        return a if dtype is None else a.astype(dtype)

    def __repr__(self):
        return f"<lazy stack of {len(self.parts)} x {self.parts[0].name} {self.parts[0].shape} {self.dtype}>"


def is_lazy(value):
    return isinstance(value, (LazyDataset, LazyStack))
