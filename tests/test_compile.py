"""mg.compile: a replayed training step matches eager, retraces on new shapes, refuses what it
cannot replay, and allocates nothing per step once warm."""
import importlib
import re
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from conftest import require
import nn
import nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))


def _example(name, attr):
    return getattr(importlib.import_module(name), attr)


def _mlp():
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                         nn.Linear(100, 10))


MODELS = {      # name: (build the model, input shape of one sample, loss)
    "lenet5": (lambda: _example("lenet5", "LeNet5")(), (1, 28, 28), "ce"),
    "cnn_bn": (lambda: _example("cnn_bn", "ConvNet")(), (1, 28, 28), "ce"),
    "resnet": (lambda: _example("resnet", "ResNet")(1), (1, 12, 12), "ce"),
    "seed_cnn": (lambda: _example("seed_cnn", "seed_cnn")(), (1, 28, 28), "ce"),
    "cat": (lambda: _example("cat_classifier", "l_layer_model")(48), (48,), "bce"),
    "mlp": (_mlp, (784,), "ce"),
}


def _train(name, compiled, steps=5, batch=4):
    build, shape, loss_kind = MODELS[name]
    mg.manual_seed(0)
    model = build()
    opt = mg.optim.Adam(model.parameters(), lr=1e-2)

    def step(x, y):
        opt.zero_grad()
        out = model(x)
        if loss_kind == "ce":
            loss = F.cross_entropy(out, y)
        else:
            loss = F.binary_cross_entropy(out.reshape(-1), y)
        loss.backward()
        opt.step()
        return loss

    run = mg.compile(step) if compiled else step
    rng = np.random.default_rng(1)
    losses = []
    for _ in range(steps):
        x = mg.tensor(rng.standard_normal((batch,) + shape).astype(np.float32))
        y = rng.integers(0, 10, batch) if loss_kind == "ce" else \
            rng.integers(0, 2, batch).astype(np.float32)
        losses.append(run(x, mg.tensor(y)).data.copy())
    return losses, [p.data.copy() for p in model.parameters()], model


@pytest.mark.parametrize("name", list(MODELS))
def test_compiled_step_matches_eager(name):
    eager, eager_params, model = _train(name, compiled=False)
    replay, replay_params, _ = _train(name, compiled=True)
    # the replay runs the very same NumPy calls in the same order: bitwise equal
    for a, b in zip(eager + eager_params, replay + replay_params):
        np.testing.assert_array_equal(a, b)
    buffers = [b.data.copy() for b in getattr(model, "buffers", lambda: [])()]
    assert all(np.isfinite(b).all() for b in buffers)


def _counted(fn):
    calls = []

    def wrapped(*args):
        calls.append(args[0].shape)
        return fn(*args)
    return wrapped, calls


def test_replay_skips_python_and_retraces_on_new_shapes():
    w = mg.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    fn, calls = _counted(lambda x: ((x @ w).exp() * 2 - 1).sum())
    step = mg.compile(fn)
    for n in (4, 4, 4, 4, 5, 5, 5, 5):
        x = np.random.default_rng(n).standard_normal((n, 3)).astype(np.float32)
        out = step(mg.tensor(x))
        np.testing.assert_allclose(out.data, (np.exp(x @ w.data) * 2 - 1).sum(), rtol=1e-6)
    # three eager calls per shape (warm-up and two recordings), then replays
    assert calls == [(4, 3)] * 3 + [(5, 3)] * 3
    x64 = mg.tensor(np.ones((4, 3)))
    step(x64)
    assert calls[-1] == (4, 3) and len(calls) == 7      # a new dtype retraces too


@pytest.mark.parametrize("kind", [tuple, list])
def test_replay_returns_what_the_step_returns(kind):
    step = mg.compile(lambda x: kind([x * 2, x.sum()]))
    for _ in range(5):      # warm-up, two recordings, then replays
        x = mg.randn(3)
        out = step(x)
        assert type(out) is kind and len(out) == 2
        np.testing.assert_array_equal(out[0].data, x.data * 2)
        np.testing.assert_array_equal(out[1].data, x.data.sum())
    assert step.programs


@pytest.mark.parametrize("body, named", [
    (lambda x: x.sum().item(), "item()"),
    (lambda x: x * 2 if bool(x.sum() > 0) else x, "bool(tensor)"),
    (lambda x: mg.tensor(x.numpy() * 2), "numpy()"),
    (lambda x: F.dropout(x, 0.5, training=True), "dropout"),
])
def test_untraceable_steps_are_refused_by_name(body, named):
    step = mg.compile(body)
    x = mg.tensor(np.arange(6, dtype=np.float32).reshape(2, 3) + 1)
    step(x)                                     # the warm-up call runs eagerly
    pattern = named.replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(mg.CompileError, match=pattern):
        step(x)
        step(x)
    with pytest.raises(mg.CompileError, match=pattern):     # refused again, not a broken cache
        step(x)
        step(x)


def test_step_whose_control_flow_changes_is_refused():
    state = {"n": 0}

    def body(x):
        state["n"] += 1
        return x * 2 if state["n"] % 2 else (x * 2).exp()
    step = mg.compile(body)
    x = mg.tensor(np.ones((2, 2), np.float32))
    step(x)
    step(x)
    with pytest.raises(mg.CompileError, match="differ between|operations on its first"):
        step(x)


def _ce_step(model, opt):
    """A training step: cross-entropy of model(x) against y, backward, opt.step()."""
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def test_replay_does_not_grow_memory():
    _, _, model = _train("mlp", compiled=False, steps=1)
    step = mg.compile(_ce_step(model, mg.optim.SGD(model.parameters(), lr=0.1)))
    x = mg.tensor(np.random.default_rng(0).standard_normal((8, 784)).astype(np.float32))
    y = mg.tensor(np.arange(8) % 10)
    for _ in range(5):
        step(x, y)
    tracemalloc.start()
    step(x, y)
    before = tracemalloc.take_snapshot()
    for _ in range(20):
        step(x, y)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    assert grown < 64 * 1024, f"replay kept {grown} bytes over 20 steps"


@pytest.mark.parametrize("make_opt", [
    lambda p: mg.optim.Adam(p, lr=1e-3), lambda p: mg.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: mg.optim.RMSprop(p, lr=1e-3, momentum=0.9, centered=True, weight_decay=1e-4),
    lambda p: mg.optim.Adagrad(p, lr=1e-2, weight_decay=1e-4)])
def test_replayed_step_allocates_no_arrays(make_opt):
    """Once warm, a replayed conv / batch norm / max-pool step with any optimizer writes every
    array into the program's buffers (or the optimizer's scratch memory): what it allocates is
    Python objects, the labels' one-hot encoding and NumPy's iteration buffers, which replay keeps
    at 2,048 elements: under the 32 KiB that one float32 operand's buffer takes at NumPy's 8,192
    (the max-pool's products of operands in two memory orders took 44 KiB in all), against several
    MiB for one eager step. The caller's buffer size is restored."""
    mg.manual_seed(0)
    model = _example("cnn_bn", "ConvNet")()
    step = _ce_step(model, make_opt(model.parameters()))
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((64, 1, 28, 28), dtype=np.float32))
    y = mg.tensor(rng.integers(0, 10, 64))

    def peak(run):
        tracemalloc.start()
        run(x, y)       # tracemalloc's own first-use allocations
        begin = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run(x, y)
        allocated = tracemalloc.get_traced_memory()[1] - begin
        tracemalloc.stop()
        return allocated
    compiled, bufsize = mg.compile(step), np.getbufsize()
    for _ in range(4):
        compiled(x, y)
    assert len(compiled.programs) == 1
    assert peak(compiled) < 32 * 1024 < 4 * 2**20 < peak(step)
    assert np.getbufsize() == bufsize


def test_replayed_step_leaves_each_calls_gradients():
    """After a replayed call every parameter's .grad holds that call's gradient, as after an eager
    step (bit for bit)."""
    rng = np.random.default_rng(0)
    xs = [mg.tensor(rng.standard_normal((6, 4), dtype=np.float32)) for _ in range(6)]
    ys = [mg.tensor(rng.integers(0, 3, 6)) for _ in range(6)]
    grads = {}
    for compiled in (False, True):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
        step = _ce_step(model, mg.optim.Adam(model.parameters(), lr=0.1))
        run = mg.compile(step) if compiled else step
        grads[compiled] = []
        for x, y in zip(xs, ys):
            run(x, y)
            grads[compiled].append([p.grad.numpy().copy() for p in model.parameters()])
    assert len(run.programs) == 1
    for eager, replayed in zip(grads[False], grads[True]):
        for a, b in zip(eager, replayed):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(grads[True][-1][0], grads[True][-2][0])


def test_replayed_step_leaves_gradients_on_the_tensors_it_is_given():
    """A gradient on an argument lands on the tensor passed in that call."""
    def step(w):
        (w * w).sum().backward()
    compiled = mg.compile(step)
    for k in range(5):
        w = mg.tensor(np.arange(3.0) + k, requires_grad=True)
        compiled(w)
        np.testing.assert_array_equal(w.grad.numpy(), 2 * (np.arange(3.0) + k))
    assert len(compiled.programs) == 1


def test_an_argument_that_stops_requiring_grad_gets_its_own_program():
    """requires_grad is part of a call's signature: the program recorded while x required grad
    is not replayed for an x that does not (which must get no gradient)."""
    w = mg.tensor(np.arange(3.0), requires_grad=True)

    def step(x):
        w.grad = None
        (x * w).sum().backward()
    compiled = mg.compile(step)
    for needs in (True, False):
        for k in range(4):
            x = mg.tensor(np.ones(3) * k, requires_grad=needs)
            compiled(x)
            np.testing.assert_array_equal(w.grad.numpy(), np.ones(3) * k)
            assert (x.grad is None) != needs
    assert len(compiled.programs) == 2


@pytest.mark.parametrize("update", [
    lambda x: x.add_(1),
    lambda x: x.__setitem__(0, 5.0),
    lambda x: x[1:].mul_(2),            # through a view of the argument
], ids=["add_", "setitem", "view"])
def test_in_place_update_of_an_argument_reaches_the_callers_tensor(update):
    """A replay works on its own copy of each argument; one that the step updates in place is
    copied back to the caller's tensor (and its version bumped), as after an eager call."""
    def step(x):
        update(x)
        return x * 2
    compiled = mg.compile(step)
    kept, kept_eager = mg.tensor(np.arange(3.0)), mg.tensor(np.arange(3.0))  # across calls
    calls = 0
    for k in range(5):
        fresh, expect = mg.tensor(np.arange(3.0) + k), mg.tensor(np.arange(3.0) + k)
        for x, x_eager in ((fresh, expect), (kept, kept_eager)):
            version, calls = x._version, calls + 1
            np.testing.assert_array_equal(compiled(x).numpy(), step(x_eager).numpy())
            np.testing.assert_array_equal(x.numpy(), x_eager.numpy())
            if calls > 3:   # replayed: a graph that saved x before the call must refuse
                assert x._version > version
    assert len(compiled.programs) == 1
    assert not np.array_equal(kept.numpy(), np.arange(3.0))


def test_an_optimizer_over_an_argument_updates_the_callers_tensor():
    """An optimizer over the tensor the step is given: each replayed update reaches it, step for
    step as eager's (Adam's state included)."""
    weights = {}
    for compiled in (False, True):
        w = mg.tensor(np.arange(3.0), requires_grad=True)
        opt = mg.optim.Adam([w], lr=0.1)

        def step(w):
            opt.zero_grad()
            (w * w * w).sum().backward()
            opt.step()
        run = mg.compile(step) if compiled else step
        weights[compiled] = []
        for _ in range(6):
            run(w)
            weights[compiled].append(w.numpy().copy())
    assert len(run.programs) == 1
    np.testing.assert_array_equal(weights[True], weights[False])
    assert len({tuple(v) for v in weights[True]}) == 6


def test_steps_with_different_parameter_groups_are_refused():
    """An optimizer made inside the step gives each call a new parameter group: the recordings
    differ, and that is a CompileError, not an error from comparing tensors."""
    def step(w):
        opt = mg.optim.SGD([w], lr=0.1)
        (w * w).sum().backward()
        opt.step()
    compiled = mg.compile(step)
    w = mg.tensor(np.arange(3.0), requires_grad=True)
    compiled(w)
    compiled(w)
    with pytest.raises(mg.CompileError, match="differ between"):
        compiled(w)


def test_arguments_that_share_memory_get_their_own_program():
    """A step recorded with one tensor passed twice reads both arguments from one buffer: it is
    not replayed for two different tensors (nor the other way round)."""
    compiled = mg.compile(lambda a, b: a - b)
    x, y = mg.tensor(np.ones(3, np.float32)), mg.tensor(np.zeros(3, np.float32))
    for _ in range(4):
        np.testing.assert_array_equal(compiled(x, x).numpy(), np.zeros(3))
    for _ in range(4):
        np.testing.assert_array_equal(compiled(x, y).numpy(), np.ones(3))
        np.testing.assert_array_equal(compiled(x, x).numpy(), np.zeros(3))
    assert len(compiled.programs) == 2


def test_a_boolean_mask_whose_count_changes_is_a_clear_error():
    """A boolean mask with the recorded count replays (new positions included); one with another
    count would change the step's shapes, and the replay says so instead of a NumPy error."""
    compiled = mg.compile(lambda x, m: x[m].sum())
    x = mg.tensor(np.arange(4.0))
    for _ in range(3):
        compiled(x, mg.tensor(np.array([True, False, True, False])))
    assert compiled(x, mg.tensor(np.array([False, True, False, True]))).item() == 4.0
    with pytest.raises(mg.CompileError, match=r"Index gave shape \(3,\) where the recorded step "
                                              r"had \(2,\): its shape depends on tensor values"):
        compiled(x, mg.tensor(np.array([True, True, True, False])))


def test_repeat_interleave_with_tensor_repeats_is_refused():
    """Its output's shape comes from the counts' values, which a replay cannot follow (an int
    count replays)."""
    x = mg.tensor(np.arange(4.0))
    compiled = mg.compile(lambda x, r: mg.repeat_interleave(x, r).sum())
    compiled(x, mg.tensor(np.array([1, 1, 1, 1])))
    with pytest.raises(mg.CompileError, match="repeat_interleave with tensor repeats"):
        compiled(x, mg.tensor(np.array([1, 1, 1, 1])))
    by_int = mg.compile(lambda x: mg.repeat_interleave(x, 2).sum())
    assert [by_int(x).item() for _ in range(4)] == [12.0] * 4 and by_int.programs


def test_a_call_under_no_grad_is_not_replayed_as_a_training_step():
    """The grad mode is part of the signature: under no_grad the step runs eagerly and fails as
    eager does, instead of a replay updating the weights."""
    lin = nn.Linear(3, 1)
    opt = mg.optim.SGD(lin.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = lin(x).sum()
        loss.backward()
        opt.step()
        return loss
    compiled = mg.compile(step)
    x = mg.tensor(np.ones((2, 3), np.float32))
    for _ in range(4):
        compiled(x)
    weight = lin.weight.data.copy()
    with mg.no_grad(), pytest.raises(RuntimeError, match="does not require grad"):
        compiled(x)
    np.testing.assert_array_equal(lin.weight.data, weight)


def test_a_module_switched_to_eval_is_recorded_again():
    """A module's train/eval mode at recording is checked before each replay: after eval() the
    step runs (and records) in eval mode, batch norm using its running statistics as eager does,
    and after train() in training mode again."""
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    compiled = mg.compile(lambda x: model(x).sum(0))
    x = mg.tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    for mode in (True, False, True):
        model.train(mode)
        for _ in range(4):
            got = compiled(x).numpy()
            np.testing.assert_array_equal(got, model(x).sum(0).numpy())
        assert len(compiled.programs) == 1
    model.train()
    assert np.abs(compiled(x).numpy()).max() < 1e-5 < np.abs(model.eval()(x).sum(0).numpy()).max()


def test_gradients_zeroed_in_place_are_refused_by_name():
    """zero_grad(set_to_none=False) zeroes the previous call's gradients: the error says so."""
    lin = nn.Linear(2, 1)
    opt = mg.optim.SGD(lin.parameters(), lr=0.1)

    def step(x):
        opt.zero_grad(set_to_none=False)
        lin(x).sum().backward()
        opt.step()
    compiled = mg.compile(step)
    x = mg.tensor(np.ones((3, 2), np.float32))
    with pytest.raises(mg.CompileError, match=r"zero_grad\(set_to_none=False\)"):
        for _ in range(3):
            compiled(x)


@pytest.mark.parametrize("norm_type", [2.0, float("inf")])
def test_a_step_that_clips_its_gradients_replays(norm_type):
    """clip_grad_norm_ reads no value into Python, so a step that clips compiles, and its losses,
    norms and weights follow eager's bit for bit."""
    rng = np.random.default_rng(0)
    batches = [(mg.tensor(rng.standard_normal((5, 4), dtype=np.float32)),
                mg.tensor(rng.integers(0, 3, 5))) for _ in range(6)]
    runs = {}
    for compiled in (False, True):
        mg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = mg.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.1, norm_type)
            opt.step()
            return loss, norm
        run = mg.compile(step) if compiled else step
        runs[compiled] = [[t.item() for t in run(x, y)] for x, y in batches]
        runs[compiled].append(model[0].weight.numpy().tolist())
    assert len(run.programs) == 1
    assert runs[True] == runs[False]
    assert all(norm > 0.1 for _, norm in runs[True][:-1])      # every step was clipped


def test_replayed_one_hot_is_written_into_its_buffer():
    """one_hot writes each call's encoding into the program's buffer: with 1,000 classes the
    (64, 1000) float32 encoding alone is 250 KiB, and a replayed step allocates far less, while
    its losses follow the labels of each call exactly as eager's do."""
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((64, 8), dtype=np.float32))
    labels = [mg.tensor(rng.integers(0, 1000, 64)) for _ in range(6)]
    losses = {}
    for compiled in (False, True):
        mg.manual_seed(0)
        lin = nn.Linear(8, 1000)
        step = _ce_step(lin, mg.optim.SGD(lin.parameters(), lr=0.5))
        step = mg.compile(step) if compiled else step
        losses[compiled] = [step(x, y).item() for y in labels]
    assert losses[True] == losses[False]
    assert len(set(losses[True])) == len(labels)
    tracemalloc.start()
    step(x, labels[0])
    begin = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    step(x, labels[1])
    allocated = tracemalloc.get_traced_memory()[1] - begin
    tracemalloc.stop()
    assert allocated < 64 * 1024 < 64 * 1000 * 4


def test_replayed_one_hot_along_another_axis_matches_eager():
    """one_hot's class axis moved to the front is a view of the buffer replay writes into."""
    def step(w, y):
        loss = (w * mg.one_hot(y, 5, axis=0)).sum()
        loss.backward()
        return loss
    rng = np.random.default_rng(1)
    w = mg.tensor(rng.standard_normal((5, 7)), requires_grad=True)
    compiled = mg.compile(step)
    for _ in range(5):
        y = mg.tensor(rng.integers(0, 5, 7))
        w.grad = None
        got = compiled(w, y).item()
        grad = w.grad.numpy()
        w.grad = None
        assert got == step(w, y).item()
        np.testing.assert_array_equal(grad, w.grad.numpy())
        np.testing.assert_array_equal(grad, np.eye(5)[:, y.numpy()])
    assert len(compiled.programs) == 1


def test_replay_checks_class_indices_on_every_call():
    """cross_entropy's range check runs inside the recorded host computation: a replayed call
    with an out-of-range label raises eager's message, instead of training on a row of zeros."""
    lin = nn.Linear(4, 3)
    step = mg.compile(_ce_step(lin, mg.optim.SGD(lin.parameters(), lr=0.1)))
    x = mg.tensor(np.ones((5, 4), np.float32))
    for _ in range(4):
        step(x, mg.tensor(np.array([0, 1, 2, 0, 1])))
    weight = lin.weight.data.copy()
    message = r"cross_entropy: target values must lie in \[0, 3\) for input \(5, 3\), got values " \
              r"from 0 to 7"
    with pytest.raises(ValueError, match=message):
        step(x, mg.tensor(np.array([0, 1, 7, 0, 1])))
    with pytest.raises(ValueError, match=message):
        step.__wrapped__(x, mg.tensor(np.array([0, 1, 7, 0, 1])))
    assert np.array_equal(lin.weight.data, weight)


def test_replay_recomputes_integer_division_and_checks_the_divisor():
    """floor_divide and remainder of integers are recomputed on every replayed call, and a zero
    divisor raises ZeroDivisionError there as in eager (numpy would give 0 silently)."""
    step = mg.compile(lambda x, y: (x // y).float() * 10 + (x % y).float())
    y = mg.tensor(np.array([2, 3, -4]))
    for i in range(5):
        x = mg.tensor(np.array([7, -9, 11]) * (i + 1))
        expect = (x.data // y.data) * 10 + x.data % y.data
        np.testing.assert_array_equal(step(x, y).data, expect)
    assert step.programs
    for op, fn in (("floor_divide", lambda a, b: a // b), ("remainder", lambda a, b: a % b)):
        step = mg.compile(fn)
        for _ in range(4):
            step(x, y)
        assert step.programs
        with pytest.raises(ZeroDivisionError, match=f"{op}: integer division by zero"):
            step(x, mg.tensor(np.array([2, 0, 1])))


def test_embedding_softplus_and_binary_cross_entropy_replay_and_check_every_call():
    """embedding's index check, softplus's linear branch and binary_cross_entropy's range check
    look at values: they run as host computations (or, softplus, take the branch-free form while
    tracing), so such a step compiles, matches eager bitwise and still raises on bad values."""
    def build():
        mg.manual_seed(0)
        emb, lin = nn.Embedding(10, 4), nn.Linear(4, 1)
        opt = mg.optim.Adam(list(emb.parameters()) + list(lin.parameters()), lr=0.1)

        def step(idx, y):
            opt.zero_grad()
            p = F.sigmoid(lin(F.softplus(emb(idx) * 30, threshold=20.0)).reshape(-1))
            loss = F.binary_cross_entropy(p, y)
            loss.backward()
            opt.step()
            return loss
        return step, lin.weight
    (eager, w_eager), (compiled, w_compiled) = build(), build()
    compiled = mg.compile(compiled)
    rng = np.random.default_rng(0)
    for _ in range(6):
        idx = mg.tensor(rng.integers(0, 10, 8))
        y = mg.tensor(rng.integers(0, 2, 8).astype(np.float32))
        np.testing.assert_array_equal(compiled(idx, y).data, eager(idx, y).data)
    np.testing.assert_array_equal(w_compiled.data, w_eager.data)
    assert len(compiled.programs) == 1
    with pytest.raises(IndexError, match=r"embedding: indices from 3 to 10 are out of range for "
                                         r"a weight of shape \(10, 4\)"):
        compiled(mg.tensor(np.arange(3, 11)), y)
    bce = mg.compile(lambda p, t: F.binary_cross_entropy(p, t))
    t = mg.tensor(np.ones(3, np.float32))
    for _ in range(4):
        bce(mg.tensor(np.full(3, 0.5, np.float32)), t)
    with pytest.raises(ValueError, match=r"binary_cross_entropy: input must hold probabilities"):
        bce(mg.tensor(np.array([0.5, 1.5, 0.2], np.float32)), t)


def test_replay_recomputes_values_made_in_numpy():
    """sign, rounding, isnan/isfinite, nan_to_num's masks, sort and topk's indices and norm(p=0)
    are host computations: a replay with new values gives eager's results."""
    def step(x):
        top, _ = x.topk(2)
        return ((x.sign() * x).sum() + x.round(decimals=1).sum() + x.floor().sum() + top.sum()
                + x.nan_to_num(posinf=9.0).sum() + x.norm(0) + x.sort(descending=True)[0][1]
                + mg.isfinite(x).float().sum())
    compiled = mg.compile(step)
    for seed in range(6):
        x = np.random.default_rng(seed).standard_normal(6) * 3
        x[seed] = np.inf if seed % 2 else 0.0
        x = mg.tensor(x)
        np.testing.assert_array_equal(compiled(x).data, step(x).data)
    assert len(compiled.programs) == 1


def test_profile_replay_times_each_instruction_once_per_step(capsys):
    """benchmarks/profile_replay.py puts a timer around every instruction of the replayed program
    and takes its timers out of the replay's table again afterwards."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    profile = importlib.import_module("profile_replay")
    into = dict(profile.compile_module._INTO)
    profile.main(["seed_cnn", "--steps", "3"])
    out = capsys.readouterr().out
    instructions = int(re.search(r"(\d+) instructions", out).group(1))
    assert instructions > 20 and sum(profile.CALLS.values()) == 3 * instructions
    assert "| MatMul | into |" in out and "| Adam._update | copy |" in out
    assert profile.compile_module._INTO == into


def test_program_draws_as_dot():
    w = mg.tensor(np.ones((3, 2), np.float32), requires_grad=True)
    step = mg.compile(lambda x: (x @ w).exp().sum())
    for _ in range(3):
        step(mg.tensor(np.ones((4, 3), np.float32)))
    (program,) = step.programs.values()
    text = program.dot()
    assert text.startswith("digraph") and "MatMul" in text and "Exp" in text and "->" in text
    dot = require("graphviz")
    svg = dot.Source(text).pipe(format="svg").decode()
    assert "MatMul" in svg
