"""The files the page decodes and draws with, served as they are from one folder.

    decoder-<hash>.bin   the decoder's weights exactly as the checkpoint stores them
                         (int8 with float16 scales, float16, or float32): ~2 MB
    points-<hash>.bin    the test digits' posterior means and labels, for the latent map
    replay-<hash>.bin    the training replay (vae/replay.py): the means after each epoch, a few manifolds
    page-<hash>.js ...   the page's own JavaScript: the ES modules of explorer/static/, each
                         importing the others by their hashed names (write_modules)

There is a decoder, points and replay pack for each model (no replay for a run trained without
one). Each name carries a hash of its bytes, so a browser may keep a file for good (the route says
so: gradio_adjustments.serve_assets) and a changed file gets a new name.

The .bin files are "packs": the 4 bytes VAEP, a little-endian uint32 header length, a
JSON header {"meta": {...}, "arrays": {name: {"dtype", "shape", "offset"}}}, then the
arrays' bytes, each starting at a multiple of 4 after the header. pack.js reads them.
"""
import hashlib
import json
import os
import re
import stat
import struct
import tempfile
from pathlib import Path

import numpy as np

from vae.data import class_names

STATIC = Path(__file__).resolve().parent / "static"
MAGIC = b"VAEP"
DTYPES = {np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8", np.dtype(np.float16): "float16",
          np.dtype(np.float32): "float32"}


def pack(arrays: dict[str, np.ndarray], meta: dict) -> bytes:
    """Arrays (int8, uint8, float16 or float32) and a JSON-able meta in one pack (see the module docstring)."""
    header, blobs, offset = {"meta": meta, "arrays": {}}, [], 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
        header["arrays"][name] = {"dtype": DTYPES[array.dtype], "shape": list(array.shape), "offset": offset}
        padded = data + b"\0" * (-len(data) % 4)
        blobs.append(padded)
        offset += len(padded)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 4)
    return MAGIC + struct.pack("<I", len(head)) + head + b"".join(blobs)


def unpack(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """(meta, arrays) of a pack: what the page's pack.js reads, in Python for the tests."""
    if data[:4] != MAGIC:
        raise ValueError("not a VAEP pack")
    (size,) = struct.unpack("<I", data[4:8])
    header = json.loads(data[8:8 + size])
    start = 8 + size
    arrays = {}
    for name, a in header["arrays"].items():
        dtype = np.dtype(a["dtype"]).newbyteorder("<")
        count = int(np.prod(a["shape"]))
        arrays[name] = np.frombuffer(data, dtype, count, start + a["offset"]).reshape(a["shape"])
    return header["meta"], arrays


def decoder_pack(checkpoint: dict, check: dict) -> bytes:
    """The decoder of a loaded checkpoint file (torch.load of vae.train's output) as a pack.

    Each Linear layer i of the decoder gives arrays w{i} [out, in] and b{i} [out], stored in the
    checkpoint's own dtype, plus s{i} [out, in / group] where w{i} is int8: weight = w * s, the
    product that vae.model.dequantize computes, exact in float32. The page therefore decodes with
    the very weights the server's model holds."""
    weights, scales = checkpoint["model"], checkpoint.get("scales", {})
    arrays, layers = {}, 0
    while f"decoder.{2 * layers}.weight" in weights:
        key = f"decoder.{2 * layers}"
        arrays[f"w{layers}"] = weights[f"{key}.weight"].numpy()
        arrays[f"b{layers}"] = weights[f"{key}.bias"].numpy()
        if f"{key}.weight" in scales:
            arrays[f"s{layers}"] = scales[f"{key}.weight"].numpy()
        layers += 1
    meta = {"layers": layers, "activation": "elu", "output": "sigmoid", "latent_dim": checkpoint["config"]["latent_dim"],
            "check": check}
    return pack(arrays, meta)


def points_pack(mu: np.ndarray, labels: np.ndarray, images: np.ndarray, classes: list[str]) -> bytes:
    """The latent map's points: posterior means [N, 2] (float32) and their class labels [N] (uint8), and
    the pictures of the first of those digits, for the pickers' thumbnails [M, 784] (uint8); the classes'
    names (the map's labels and legend) in meta."""
    return pack({"mu": np.asarray(mu, dtype=np.float32), "labels": np.asarray(labels, dtype=np.uint8),
                 "images": np.asarray(images, dtype=np.uint8).reshape(len(images), -1)}, {"count": len(mu), "classes": classes})


def replay_pack(replay: dict) -> bytes:
    """A training replay as vae.replay.save_replay wrote it: mu [epochs, N, 2] (float16), labels [N],
    manifolds [M, MANIFOLD_N ** 2, 784] (uint8); the epochs, the manifolds' epochs and the per-epoch
    metrics in meta."""
    manifolds = replay["manifolds"].numpy().astype(np.uint8)
    return pack({"mu": replay["mu"].numpy().astype(np.float16), "labels": replay["labels"].numpy().astype(np.uint8),
                 "manifolds": manifolds.reshape(len(manifolds), -1, 784)},
                {"epochs": replay["epochs"].tolist(), "manifold_epochs": replay["manifold_epochs"].tolist(),
                 "history": replay["history"]})


def asset_folder() -> Path:
    """A folder of this user's own under the system's temporary directory, kept across restarts so
    that the names stay valid in browsers' caches; a fresh private one where that path is taken."""
    folder = Path(tempfile.gettempdir()) / f"vae-explorer-assets-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022:
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="vae-explorer-assets-"))


def write_asset(folder: Path, stem: str, suffix: str, data: bytes) -> Path:
    """data as folder/<stem>-<hash><suffix>, written once (atomically: servers may share the folder)."""
    path = folder / f"{stem}-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not path.is_file() or path.stat().st_size != len(data):
        tmp = folder / f".{path.name}.{os.getpid()}.tmp"
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def write_assets(folder: Path, checkpoint: dict, check: dict, mu: np.ndarray, labels: np.ndarray,
                 images: np.ndarray, replay: dict | None) -> dict[str, Path]:
    """Write the page's files for a loaded checkpoint file (see decoder_pack for it and `check`), the map's
    points with the class names the checkpoint records (see points_pack) and its training replay (as vae.replay.save_replay wrote it), if it has one;
    {"decoder", "points", "replay"} -> path, without "replay" for a run without one."""
    files = {"decoder": write_asset(folder, "decoder", ".bin", decoder_pack(checkpoint, check)),
             "points": write_asset(folder, "points", ".bin", points_pack(mu, labels, images, class_names(checkpoint["meta"])))}
    if replay is not None:
        files["replay"] = write_asset(folder, "replay", ".bin", replay_pack(replay))
    return files


# An import of a sibling module: `from "./name.js"` (the page's modules import nothing else).
SIBLING = re.compile(r'from "\./([\w-]+)\.js"')


def write_modules(folder: Path, source: Path = STATIC) -> dict[str, Path]:
    """Write the ES modules of `source` (*.js) into `folder` under hashed names, each importing the
    others by their hashed names, so that a module's name changes whenever it or anything it
    imports does; {stem: path}. The modules import each other without cycles."""
    texts = {path.stem: path.read_text() for path in sorted(source.glob("*.js"))}
    written: dict[str, Path] = {}

    def write(stem: str, visiting: tuple[str, ...] = ()) -> Path:
        if stem not in written:
            if stem in visiting:
                raise ValueError(f"the page's modules import each other in a cycle: {' -> '.join(visiting + (stem,))}")
            if stem not in texts:
                raise ValueError(f"{visiting[-1]}.js imports ./{stem}.js, which {source} does not hold")
            text = SIBLING.sub(lambda m: f'from "./{write(m[1], visiting + (stem,)).name}"', texts[stem])
            written[stem] = write_asset(folder, stem, ".js", text.encode())
        return written[stem]

    for stem in texts:
        write(stem)
    return written
