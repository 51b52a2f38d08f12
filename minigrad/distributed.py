"""Data-parallel training over MPI: one process per rank, each on its share of every batch.

Launch with `mpirun -n 4 python train.py` (several machines: `mpirun -n 8 --hostfile hosts python
train.py`, with the same Python environment and files on each). In the script, `init()` joins the
ranks; then `rank` and `world_size` say who this process is. A training step per rank is:

    loss.backward()
    distributed.average_gradients(model.parameters())     # now every rank holds the mean gradient
    optimizer.step()

`broadcast_parameters(model)` at the start gives every rank rank 0's weights, a DataLoader with
`num_replicas=world_size, rank=rank` serves each rank its share of every global batch, and only
rank 0 should write files. `Model.fit(..., distributed=True)` does all of this.

Gradients travel in buckets: the gradients of consecutive parameters are flattened into one
buffer of at most `bucket_bytes` (25 MB, as in PyTorch) and each buffer is one Allreduce, so a
model with many small parameters costs a few collectives per step, not one per parameter.

A rank that dies must not leave the others waiting forever. An uncaught exception on any rank
aborts all of them (MPI_Abort), and every collective waits at most `timeout` seconds (init's
argument, default 600) for the other ranks before it raises an error that names the rank and the
operation, and aborts the job.

mpi4py (`pip install "minigrad[mpi]"`) and an MPI library (Open MPI: `apt-get install openmpi-bin
libopenmpi-dev`) are needed only here; without `init()` this module runs as one rank.

Size budget: 200 code lines
"""
import sys
import time

from .autograd import untraceable
from .backend import xp
from .tensor import Tensor

rank, world_size = 0, 1
_state = {"comm": None, "timeout": 600.0}
BUCKET_BYTES = 25 * 2**20


def _mpi():
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError('minigrad.distributed needs mpi4py and an MPI library: pip install '
                          '"minigrad[mpi]" (and e.g. apt-get install openmpi-bin libopenmpi-dev)'
                          ) from None
    return MPI


def init(timeout: float | None = None):
    """Join the MPI job (mpirun's ranks); sets `rank` and `world_size`. `timeout` (seconds,
    default 600) bounds every wait for the other ranks; calling init again only changes it."""
    global rank, world_size
    if timeout is not None:
        if not timeout > 0:
            raise ValueError(f"distributed.init: timeout must be a positive number of seconds, "
                             f"got {timeout!r}")
        _state["timeout"] = float(timeout)
    if _state["comm"] is None:
        comm = _mpi().COMM_WORLD
        _state["comm"], rank, world_size = comm, comm.Get_rank(), comm.Get_size()
        if world_size > 1:
            sys.excepthook = _abort_on_exception(sys.excepthook)


def is_initialized() -> bool:
    return _state["comm"] is not None


def _abort_on_exception(previous):
    def hook(kind, value, traceback):
        sys.stderr.write(f"[rank {rank}/{world_size}] ")
        previous(kind, value, traceback)
        sys.stderr.flush()
        _state["comm"].Abort(1)         # the other ranks stop too, instead of waiting for this one
    return hook


def _wait(request, what):
    """Wait for a non-blocking collective, at most the timeout."""
    deadline, pause = time.monotonic() + _state["timeout"], 1e-5
    while not request.Test():
        if time.monotonic() > deadline:
            raise RuntimeError(f"distributed: rank {rank} of {world_size} waited "
                               f"{_state['timeout']:g} s for the other ranks in {what}; one of "
                               "them has died or stopped training. Aborting all ranks")
        time.sleep(pause)
        pause = min(2 * pause, 1e-3)


def _comm(what):
    if _state["comm"] is None:
        raise RuntimeError(f"distributed.{what}: call distributed.init() first (and launch with "
                           "mpirun -n N python ...)")
    return _state["comm"]


def _contiguous(t, what):
    if not isinstance(t, Tensor):
        raise TypeError(f"distributed.{what}: expected a Tensor, got {type(t).__name__}")
    if not t.data.flags.c_contiguous or not t.data.flags.writeable:
        t.data = xp.ascontiguousarray(t.data).copy()
    return t.data


def all_reduce(tensor, op: str = "sum"):
    """Combine `tensor` over all ranks in place ('sum', 'mean', 'max' or 'min') and return it."""
    MPI = _mpi()
    ops = {"sum": MPI.SUM, "mean": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
    if op not in ops:
        raise ValueError(f"distributed.all_reduce: op must be one of {tuple(ops)}, got {op!r}")
    array = _contiguous(tensor, "all_reduce")
    _wait(_comm("all_reduce").Iallreduce(MPI.IN_PLACE, array, op=ops[op]),
          f"all_reduce of shape {tensor.shape}")
    if op == "mean":
        array /= world_size
    return tensor


def broadcast(tensor, root: int = 0):
    """Overwrite `tensor` in place with rank `root`'s values and return it."""
    comm = _comm("broadcast")
    if not 0 <= root < world_size:
        raise ValueError(f"distributed.broadcast: root {root} is not a rank of {world_size}")
    _wait(comm.Ibcast(_contiguous(tensor, "broadcast"), root=root),
          f"broadcast of shape {tensor.shape}")
    return tensor


def broadcast_parameters(model, root: int = 0):
    """Give every rank rank `root`'s parameters and buffers (a Module's state_dict, or a list of
    Tensors)."""
    tensors = model.state_dict().values() if hasattr(model, "state_dict") else model
    for t in tensors:
        if t is not None:
            broadcast(t, root)


def average_gradients(parameters, bucket_bytes: int = BUCKET_BYTES):
    """Replace each parameter's .grad by its mean over the ranks: one Allreduce per bucket of
    flattened gradients (a missing .grad counts as zeros, so every rank sends the same buckets)."""
    params = [p for p in parameters if p.requires_grad]
    if world_size == 1 or not params:
        return
    untraceable("average_gradients (MPI communication)")
    for bucket in _buckets(params, bucket_bytes):
        dtype = bucket[0].dtype
        flat = xp.concatenate([p.grad.data.ravel() if p.grad is not None else
                               xp.zeros(p.size, dtype) for p in bucket]).astype(dtype, copy=False)
        _wait(_comm("average_gradients").Iallreduce(_mpi().IN_PLACE, flat, op=_mpi().SUM),
              f"average_gradients ({len(bucket)} parameters, {flat.nbytes} bytes)")
        flat /= world_size
        for p, piece in zip(bucket, xp.split(flat, xp.cumsum([p.size for p in bucket])[:-1])):
            p.grad = Tensor._wrap(piece.reshape(p.shape))


def _buckets(params, bucket_bytes):
    """Consecutive parameters of one dtype, at most bucket_bytes each (a bigger one alone)."""
    buckets, size = [], 0
    for p in params:
        if not buckets or p.dtype != buckets[-1][0].dtype or size + p.data.nbytes > bucket_bytes:
            buckets.append([])
            size = 0
        buckets[-1].append(p)
        size += p.data.nbytes
    return buckets


def barrier():
    """Wait until every rank gets here (at most the timeout)."""
    _wait(_comm("barrier").Ibarrier(), "barrier")
