"""Body-model benchmark: the C++ core against plain NumPy, on an SMPL-sized model.

What is timed, per model (one call each, median over many repeats, C++ and NumPy calls
interleaved in the same loop so that both see the same machine load):

1. ``joints``: posed joints (24, 3) from (pose (72,), betas (B,), transl (3,)).
2. ``joints + Jacobian``: the same plus ∂joints/∂(pose, betas, transl) (72×72, 72×B, 72×3),
   what the fit needs at every evaluation.
   NumPy: the same analytic formulas as the C++ core (not finite differences): forward
   kinematics down the tree, then ∂p_i/∂θ_k = −[p_i − p_k]× R_k J_r(θ_k) for every strict
   ancestor k of i (R_k the global rotation of joint k, J_r the right Jacobian of SO(3)), and
   ∂p_i/∂β = ∂p_parent/∂β + R_parent (J_shapedirs_i − J_shapedirs_parent). Both sides start
   from the precomputed J_template (24, 3) and J_shapedirs (24, 3, B) (SPEC §1).
3. ``vertices (full skinning)``: the whole SMPL forward pass from scratch: shape blend shapes,
   joint regression, pose blend shapes (posedirs, 3N×207), forward kinematics, linear blend
   skinning. NumPy: a plain smplx-style forward with dense arrays (J_regressor (24, N), weights
   (N, 24)); C++: ``model.core.vertices`` (sparse J_regressor and weights).

Models: a random SMPL-sized model built here (6890 vertices, 13776 faces, 10 betas, 207
posedirs, J_regressor with 10 vertices per joint, 4 skinning weights per vertex, SMPL's
kinematic tree) and the shipped open model when its file is there.

Before timing, the NumPy results are checked against the C++ ones (max abs difference printed),
so both sides compute the same thing. BLAS is limited to one thread by default (the C++ core is
single-threaded); ``--blas-threads`` changes that. Results: a table on stdout and
``benchmarks/results/bench_model.json``.

Run: ``python benchmarks/bench_model.py`` (about a minute); ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _limit_blas_threads(argv: list[str]) -> str:
    """Set BLAS thread counts before NumPy is imported; returns the value used."""
    threads = "1"
    for i, arg in enumerate(argv):
        if arg == "--blas-threads" and i + 1 < len(argv):
            threads = argv[i + 1]
        elif arg.startswith("--blas-threads="):
            threads = arg.split("=", 1)[1]
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads
    return threads


_BLAS_THREADS = _limit_blas_threads(sys.argv[1:]) if __name__ == "__main__" else "default"

import numpy as np  # noqa: E402
import smplify  # noqa: E402
from smplify.model_io import DATA_DIR  # noqa: E402

SMPL_PARENTS = np.array(
    [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21])
NUM_JOINTS = 24
RESULTS = Path(__file__).resolve().parent / "results" / "bench_model.json"


# --- the random SMPL-sized model ------------------------------------------------------------
def random_smpl_sized_arrays(seed: int = 0, num_vertices: int = 6890, num_faces: int = 13776,
                             num_betas: int = 10) -> dict[str, np.ndarray]:
    """SMPL-format arrays with SMPL's sizes and sparsity, random values.

    Joints: each one 10–25 cm from its parent in a random direction. Vertices: each belongs to
    one joint and lies within a few centimetres of it. J_regressor: 10 vertices of the joint's
    own cluster per row, convex weights. Skinning: 4 joints per vertex (its own, the parent and
    two random ones), convex weights. Shape and pose blend shapes: Gaussian, centimetre and
    millimetre scale.
    """
    rng = np.random.default_rng(seed)
    n = num_vertices
    rest = np.zeros((NUM_JOINTS, 3))
    for i in range(1, NUM_JOINTS):
        direction = rng.normal(size=3)
        rest[i] = rest[SMPL_PARENTS[i]] + rng.uniform(0.10, 0.25) * direction / np.linalg.norm(
            direction)
    owner = np.sort(rng.integers(0, NUM_JOINTS, size=n))
    owner[:NUM_JOINTS] = np.arange(NUM_JOINTS)  # every joint owns vertices
    v_template = rest[owner] + rng.normal(scale=0.04, size=(n, 3))
    J_regressor = np.zeros((NUM_JOINTS, n))
    for j in range(NUM_JOINTS):
        members = np.flatnonzero(owner == j)
        chosen = rng.choice(members, size=min(10, len(members)), replace=False)
        J_regressor[j, chosen] = rng.dirichlet(np.ones(len(chosen)))
    weights = np.zeros((n, NUM_JOINTS))
    for m in range(n):
        j = owner[m]
        others = [k for k in range(NUM_JOINTS) if k not in (j, SMPL_PARENTS[j])]
        joints = [j, max(SMPL_PARENTS[j], 0), *rng.choice(others, size=2, replace=False)]
        np.add.at(weights[m], joints, rng.dirichlet(np.ones(4)))
    faces = np.stack([rng.choice(n, size=3, replace=False) for _ in range(num_faces)])
    kintree = np.stack([np.where(SMPL_PARENTS < 0, 2**32 - 1, SMPL_PARENTS),
                        np.arange(NUM_JOINTS)]).astype(np.int64)
    return {
        "v_template": v_template,
        "shapedirs": rng.normal(scale=0.01, size=(n, 3, num_betas)),
        "posedirs": rng.normal(scale=0.001, size=(n, 3, 207)),
        "J_regressor": J_regressor,
        "weights": weights,
        "kintree_table": kintree,
        "f": faces,
    }


# --- plain NumPy SMPL ------------------------------------------------------------------------
def skew(v: np.ndarray) -> np.ndarray:
    """(..., 3) → (..., 3, 3) cross-product matrices [v]×."""
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    zero = np.zeros_like(x)
    return np.stack([zero, -z, y, z, zero, -x, -y, x, zero], axis=-1).reshape(*v.shape, 3)


def rodrigues(rotvec: np.ndarray) -> np.ndarray:
    """(K, 3) axis-angle → (K, 3, 3): R = I + sin t/t [θ]× + (1 − cos t)/t² [θ]×²."""
    t = np.linalg.norm(rotvec, axis=1)
    small = t < 1e-8
    ts = np.where(small, 1.0, t)
    a = np.where(small, 1.0 - t**2 / 6.0, np.sin(ts) / ts)
    b = np.where(small, 0.5 - t**2 / 24.0, (1.0 - np.cos(ts)) / ts**2)
    k = skew(rotvec)
    return np.eye(3) + a[:, None, None] * k + b[:, None, None] * (k @ k)


def right_jacobian(rotvec: np.ndarray) -> np.ndarray:
    """(K, 3) → (K, 3, 3) right Jacobian of SO(3): Exp(θ + δ) ≈ Exp(θ) Exp(J_r(θ) δ).

    J_r = I − (1 − cos t)/t² [θ]× + (t − sin t)/t³ [θ]×².
    """
    t = np.linalg.norm(rotvec, axis=1)
    small = t < 1e-6
    ts = np.where(small, 1.0, t)
    b = np.where(small, 0.5 - t**2 / 24.0, (1.0 - np.cos(ts)) / ts**2)
    c = np.where(small, 1.0 / 6.0 - t**2 / 120.0, (ts - np.sin(ts)) / ts**3)
    k = skew(rotvec)
    return np.eye(3) - b[:, None, None] * k + c[:, None, None] * (k @ k)


class NumpySMPL:
    """A plain NumPy SMPL: dense arrays, the smplx-style forward pass, analytic joint Jacobian."""

    def __init__(self, model: Any):
        n = model.num_vertices
        self.parents = model.parents
        self.v_template = model.v_template
        self.shapedirs = model.shapedirs.reshape(3 * n, -1)  # 3N x B
        self.posedirs = (model.posedirs.reshape(3 * n, 207)
                         if model.has_pose_blend_shapes else None)  # 3N x 207
        self.J_regressor = model.J_regressor  # 24 x N dense
        self.weights = model.weights  # N x 24 dense
        # precomputed once per model, as the C++ core does: J(β) = J_template + J_shapedirs β
        self.J_template = self.J_regressor @ self.v_template
        self.J_shapedirs = np.einsum("jn,nkb->jkb", self.J_regressor, model.shapedirs)
        # ancestor[i, k]: k is a strict ancestor of i (p_i depends on θ_k)
        self.ancestor = np.zeros((NUM_JOINTS, NUM_JOINTS))
        for i in range(1, NUM_JOINTS):
            a = self.parents[i]
            self.ancestor[i] = self.ancestor[a]
            self.ancestor[i, a] = 1.0

    def _kinematics(self, rot: np.ndarray, J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global rotations (24, 3, 3) and joint positions (24, 3) down the tree."""
        R = np.empty((NUM_JOINTS, 3, 3))
        p = np.empty((NUM_JOINTS, 3))
        R[0], p[0] = rot[0], J[0]
        for i in range(1, NUM_JOINTS):
            a = self.parents[i]
            R[i] = R[a] @ rot[i]
            p[i] = p[a] + R[a] @ (J[i] - J[a])
        return R, p

    def joints(self, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray) -> np.ndarray:
        """Posed joints (24, 3)."""
        J = self.J_template + self.J_shapedirs @ betas
        _, p = self._kinematics(rodrigues(pose.reshape(NUM_JOINTS, 3)), J)
        return p + transl

    def joints_and_jacobian(self, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Joints (24, 3) and their Jacobians (72, 72), (72, B), (72, 3); row 3i + c."""
        aa = pose.reshape(NUM_JOINTS, 3)
        J = self.J_template + self.J_shapedirs @ betas
        R, p = self._kinematics(rodrigues(aa), J)
        # ∂p_i/∂β = ∂p_parent/∂β + R_parent (J_shapedirs_i − J_shapedirs_parent)
        Jsd = self.J_shapedirs
        D = np.empty_like(Jsd)
        D[0] = Jsd[0]
        for i in range(1, NUM_JOINTS):
            a = self.parents[i]
            D[i] = D[a] + R[a] @ (Jsd[i] - Jsd[a])
        # ∂p_i/∂θ_k = −[p_i − p_k]× R_k J_r(θ_k), k a strict ancestor of i
        M = R @ right_jacobian(aa)  # 24 x 3 x 3
        diff = p[:, None, :] - p[None, :, :]  # i x k x 3
        block = -(skew(diff) @ M[None]) * self.ancestor[:, :, None, None]  # i x k x 3 x 3
        d_pose = block.transpose(0, 2, 1, 3).reshape(3 * NUM_JOINTS, 3 * NUM_JOINTS)
        d_betas = D.reshape(3 * NUM_JOINTS, -1)
        d_transl = np.tile(np.eye(3), (NUM_JOINTS, 1))
        return p + transl, d_pose, d_betas, d_transl

    def vertices(self, pose: np.ndarray, betas: np.ndarray, transl: np.ndarray) -> np.ndarray:
        """Posed vertices (N, 3): the full forward pass from scratch."""
        n = len(self.v_template)
        # 1. shape blend shapes, N x 3
        v_shaped = self.v_template + (self.shapedirs @ betas).reshape(n, 3)
        # 2. rest joints, 24 x 3
        J = self.J_regressor @ v_shaped
        # 3. pose blend shapes from (R_j − I), j = 1..23
        rot = rodrigues(pose.reshape(NUM_JOINTS, 3))
        v_posed = v_shaped
        if self.posedirs is not None:
            feature = (rot[1:] - np.eye(3)).reshape(-1)  # 207
            v_posed = v_shaped + (self.posedirs @ feature).reshape(n, 3)
        # 4. rigid transforms without the rest joint: A_j = [R_j, p_j − R_j J_j], 24 x 3 x 4
        R, p = self._kinematics(rot, J)
        A = np.empty((NUM_JOINTS, 3, 4))
        A[:, :, :3] = R
        A[:, :, 3] = p - np.einsum("jab,jb->ja", R, J)
        # 5. linear blend skinning: T_m = Σ_j w_mj A_j, N x 3 x 4
        T = (self.weights @ A.reshape(NUM_JOINTS, 12)).reshape(n, 3, 4)
        return np.einsum("mab,mb->ma", T[:, :, :3], v_posed) + T[:, :, 3] + transl


# --- timing ----------------------------------------------------------------------------------
def interleaved_medians(cpp: Callable[[], Any], numpy: Callable[[], Any], repeats: int,
                        warmup: int = 5) -> tuple[float, float]:
    """Median seconds of one call of each, timed alternately in one loop."""
    for _ in range(warmup):
        cpp()
        numpy()
    t_cpp = np.empty(repeats)
    t_np = np.empty(repeats)
    clock = time.perf_counter
    for r in range(repeats):
        t0 = clock()
        cpp()
        t1 = clock()
        numpy()
        t2 = clock()
        t_cpp[r], t_np[r] = t1 - t0, t2 - t1
    return float(np.median(t_cpp)), float(np.median(t_np))


def bench_one(name: str, model: Any, repeats: dict[str, int], seed: int = 1) -> dict[str, Any]:
    """Check NumPy against C++ on ``model``, then time the three operations."""
    rng = np.random.default_rng(seed)
    pose = rng.normal(scale=0.3, size=72)
    betas = rng.normal(size=model.num_betas)
    transl = np.array([0.1, -0.2, 3.0])
    ref = NumpySMPL(model)
    core = model.core

    cj, cdp, cdb, cdt = core.joints_and_jacobian(pose, betas, transl)
    nj, ndp, ndb, ndt = ref.joints_and_jacobian(pose, betas, transl)
    diffs = {
        "joints": float(np.abs(np.asarray(core.joints(pose, betas, transl))
                               - ref.joints(pose, betas, transl)).max()),
        "d_pose": float(np.abs(cdp - ndp).max()),
        "d_betas": float(np.abs(cdb - ndb).max()),
        "d_transl": float(np.abs(cdt - ndt).max()),
        "vertices": float(np.abs(np.asarray(core.vertices(pose, betas, transl))
                                 - ref.vertices(pose, betas, transl)).max()),
    }
    # 1e-6 m, not rounding level: a model whose skinning weights sum to 1 only to float32
    # precision (the open model: |Σw − 1| ≤ 5e-8) moves by transl·(Σw − 1) between the C++
    # core (transl inside the blended transforms) and smplx's order (transl added after).
    worst = max(diffs.values())
    if not worst < 1e-6:
        raise RuntimeError(f"{name}: NumPy and C++ disagree: {diffs}")

    ops = [
        ("joints", lambda: core.joints(pose, betas, transl),
         lambda: ref.joints(pose, betas, transl), repeats["joints"]),
        ("joints + Jacobian", lambda: core.joints_and_jacobian(pose, betas, transl),
         lambda: ref.joints_and_jacobian(pose, betas, transl), repeats["jacobian"]),
        ("vertices (full skinning)", lambda: core.vertices(pose, betas, transl),
         lambda: ref.vertices(pose, betas, transl), repeats["vertices"]),
    ]
    rows = []
    for op, cpp_fn, np_fn, n in ops:
        t_cpp, t_np = interleaved_medians(cpp_fn, np_fn, n)
        rows.append({"op": op, "cpp_ms": 1e3 * t_cpp, "numpy_ms": 1e3 * t_np,
                     "speedup": t_np / t_cpp, "repeats": n})
    return {
        "model": name,
        "vertices": model.num_vertices,
        "faces": int(len(model.faces)),
        "betas": model.num_betas,
        "pose_blend_shapes": bool(model.has_pose_blend_shapes),
        "J_regressor_nnz": int(np.count_nonzero(model.J_regressor)),
        "weights_nnz": int(np.count_nonzero(model.weights)),
        "max_abs_diff_cpp_vs_numpy": diffs,
        "rows": rows,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'model':<28} {'operation':<26} {'C++ ms':>9} {'NumPy ms':>10} {'NumPy/C++':>10}"
          f" {'repeats':>8}")
    for res in results:
        label = f"{res['model']} (N={res['vertices']})"
        for row in res["rows"]:
            print(f"{label:<28} {row['op']:<26} {row['cpp_ms']:>9.4f} {row['numpy_ms']:>10.4f}"
                  f" {row['speedup']:>9.1f}x {row['repeats']:>8}")
            label = ""
        d = res["max_abs_diff_cpp_vs_numpy"]
        print(f"{'':<28} max |C++ - NumPy|: " + ", ".join(f"{k} {v:.1e}" for k, v in d.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few repeats (smoke test)")
    parser.add_argument("--blas-threads", default="1",
                        help="BLAS threads for NumPy (default 1, like the C++ core)")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    scale = 0.05 if args.quick else 1.0
    repeats = {k: max(5, int(v * scale))
               for k, v in {"joints": 3000, "jacobian": 2000, "vertices": 300}.items()}

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "random_smpl_sized.npz"
        np.savez(path, **random_smpl_sized_arrays())
        model = smplify.load_model(path)
        results.append(bench_one("random SMPL-sized", model, repeats))
    open_path = DATA_DIR / "open_body_neutral.npz"
    if open_path.is_file():
        results.append(bench_one("open (neutral)", smplify.load_model("open"), repeats))
    else:
        print(f"(open model not found at {open_path}; skipped)")

    print_table(results)
    doc = {
        "benchmark": "bench_model",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpus": os.cpu_count(), "python": platform.python_version(),
                    "numpy": np.__version__, "smplify": smplify.__version__,
                    "blas_threads": _BLAS_THREADS},
        "numpy_jacobian": "analytic (same formulas as the C++ core), checked against C++",
        "timing": "median seconds per call, C++ and NumPy interleaved in one loop",
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
