"""Make PyTorch's float GEMMs fast on this machine.

Debian's PyTorch 1.13 calls the generic BLAS `sgemm_`, and the BLAS installed
is netlib's reference one: ~5 GFLOPS on one core, no threads, which makes
training ~25x slower than it should be.  sgemm_dnnl.c provides an `sgemm_`
that runs on oneDNN (libdnnl.so.2, already a PyTorch dependency; ~130 GFLOPS
per core here).  enable() compiles it once (gcc, cached under
$TMPDIR/heed-recipe-blas/) and re-executes the current script with it in
LD_PRELOAD.  Call it before importing torch.

It also sets OMP_WAIT_POLICY=PASSIVE (unless OMP_WAIT_POLICY or GOMP_SPINCOUNT
is set).  Set HEED_FASTBLAS=0 to disable all this.  Without gcc or libdnnl.so.2 a warning is
printed and the script goes on with the slow BLAS.
"""

import ctypes.util
import hashlib
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "sgemm_dnnl.c")
_ACTIVE = "HEED_FASTBLAS_ACTIVE"


def _warn(msg):
    print(f"warning: fastblas: {msg}; PyTorch keeps its BLAS (maybe much slower)", file=sys.stderr)


def build():
    """-> path of the compiled shim (built if needed), or None."""
    with open(SOURCE, "rb") as f:
        digest = hashlib.sha1(f.read()).hexdigest()[:12]
    out_dir = os.path.join(tempfile.gettempdir(), "heed-recipe-blas")
    lib = os.path.join(out_dir, f"libsgemm_dnnl-{digest}.so")
    if os.path.exists(lib):
        return lib
    os.makedirs(out_dir, exist_ok=True)
    tmp = f"{lib}.{os.getpid()}.tmp"
    cmd = ["gcc", "-O2", "-shared", "-fPIC", "-o", tmp, SOURCE, "-l:libdnnl.so.2", "-ldl"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        _warn(f"cannot run gcc ({e})")
        return None
    if r.returncode != 0:
        err = r.stderr.strip().splitlines()
        _warn("building the oneDNN sgemm shim failed" + (f": {err[-1]}" if err else ""))
        return None
    os.replace(tmp, lib)
    return lib


def enable():
    if os.environ.get("HEED_FASTBLAS", "1") == "0" or os.environ.get(_ACTIVE) == "1":
        return
    if "torch" in sys.modules:
        _warn("enable() must run before torch is imported")
        return
    if not ctypes.util.find_library("dnnl"):
        _warn("libdnnl not found")
        return
    lib = build()
    if not lib:
        return
    env = dict(os.environ)
    env["LD_PRELOAD"] = lib + (":" + env["LD_PRELOAD"] if env.get("LD_PRELOAD") else "")
    env[_ACTIVE] = "1"
    if "OMP_WAIT_POLICY" not in env and "GOMP_SPINCOUNT" not in env:
        # Idle OpenMP threads sleep instead of spinning: ~3% slower on idle cores, but 2-3x
        # faster when other processes compete for the cores (spinning threads then steal
        # the time slices the working ones need).
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable] + sys.argv, env)
