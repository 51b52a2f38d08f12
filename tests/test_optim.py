"""Optimizers and learning-rate schedulers against torch.optim: 100-step trajectories, state dicts,
validation, and resuming from a checkpoint bit-exactly."""
import math

import numpy as np
import pytest
from conftest import require

import minigrad as mg
from minigrad import optim
from minigrad.optim import lr_scheduler

_rng = np.random.default_rng(0)
X, Y = _rng.standard_normal((16, 4)), _rng.standard_normal((16, 3))
INIT = [_rng.standard_normal((5, 4)) * 0.5, _rng.standard_normal((3, 5)) * 0.5,
        _rng.standard_normal(3) * 0.1, _rng.standard_normal(2)]


def _loss(params, x, y):
    """A tiny tanh network's squared error; the last parameter is unused (its grad stays None)."""
    w1, w2, b, _ = params
    return (((x @ w1.T).tanh() @ w2.T + b - y) ** 2).mean()


def _mg_params():
    return [mg.tensor(a, requires_grad=True) for a in INIT]


def _torch_params(torch):
    return [torch.tensor(a, requires_grad=True) for a in INIT]


def _groups(params, kwargs):
    """Two groups: the network weights with `kwargs`, then (added later) the bias and the unused
    parameter with a smaller lr."""
    return [dict(params=params[:2])], dict(params=params[2:], lr=kwargs["lr"] * 0.3)


OPTIMIZERS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.05)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, betas=(0.85, 0.995), weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.005)),
    ("RMSprop", dict(lr=0.005, alpha=0.9, momentum=0.5)),
    ("RMSprop", dict(lr=0.002, centered=True, momentum=0.9, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
]


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS)
def test_trajectory_matches_torch(name, kwargs):
    torch = require("torch")
    ours, theirs = _mg_params(), _torch_params(torch)
    groups, extra = _groups(ours, kwargs)
    opt = getattr(optim, name)(groups, **kwargs)
    opt.add_param_group(extra)
    groups, extra = _groups(theirs, kwargs)
    ref = getattr(torch.optim, name)(groups, **kwargs)
    ref.add_param_group(extra)
    x, y, tx, ty = mg.tensor(X), mg.tensor(Y), torch.tensor(X), torch.tensor(Y)
    for step in range(100):
        opt.zero_grad()
        _loss(ours, x, y).backward()
        opt.step()
        ref.zero_grad()
        _loss(theirs, tx, ty).backward()
        ref.step()
        for i, (p, q) in enumerate(zip(ours, theirs)):
            err = np.abs(p.data - q.detach().numpy()).max()
            assert err < 1e-5, f"{name} {kwargs}: parameter {i} off by {err:.2e} at step {step}"
    assert ours[3].grad is None and np.array_equal(ours[3].data, INIT[3])
    assert not np.array_equal(ours[0].data, INIT[0])
    # the buffers use PyTorch's names and values
    theirs_state = ref.state_dict()["state"]
    for i, buffers in opt.state_dict()["state"].items():
        expected = {k: v for k, v in theirs_state[i].items() if v is not None}
        assert set(buffers) == set(expected), (name, i)
        for k, v in buffers.items():
            np.testing.assert_allclose(np.asarray(v, dtype=float),
                                       np.asarray(expected[k], dtype=float), atol=1e-5, err_msg=k)
    assert 3 not in opt.state_dict()["state"]       # the unused parameter has no state


def test_state_dict_layout():
    params = _mg_params()
    opt = optim.Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.5}], lr=0.1)
    _loss(params, mg.tensor(X), mg.tensor(Y)).backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [
        dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, params=[0, 1]),
        dict(lr=0.5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, params=[2, 3])]
    assert sorted(sd["state"]) == [0, 1, 2]
    assert sd["state"][0]["step"] == 1 and sd["state"][0]["exp_avg"].shape == (5, 4)
    before = sd["state"][0]["exp_avg"].copy()
    opt.step()
    assert np.array_equal(sd["state"][0]["exp_avg"], before), "state_dict must be a snapshot"


def test_state_dict_round_trip_through_save(tmp_path):
    params = _mg_params()
    opt = optim.RMSprop(params, lr=0.01, momentum=0.9, centered=True)
    _loss(params, mg.tensor(X), mg.tensor(Y)).backward()
    opt.step()
    mg.save(opt.state_dict(), tmp_path / "opt.npz")
    other = optim.RMSprop(_mg_params(), lr=0.5)
    other.load_state_dict(mg.load(tmp_path / "opt.npz"))
    a, b = opt.state_dict(), other.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for i in a["state"]:
        for k, v in a["state"][i].items():
            assert np.array_equal(v, b["state"][i][k]) and type(v) is type(b["state"][i][k])


def test_load_state_dict_mismatch():
    opt = optim.SGD(_mg_params(), lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="2 param groups, this optimizer has 1"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0]}] * 2})
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the state dict, 4 here"):
        opt.load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})
    bad = {"state": {1: {"momentum_buffer": np.zeros((2, 2))}},
           "param_groups": [{"lr": 0.1, "params": [0, 1, 2, 3]}]}
    with pytest.raises(ValueError, match=r"state\[1\]\['momentum_buffer'\] has shape \(2, 2\) but "
                                         r"its parameter has shape \(3, 5\)"):
        opt.load_state_dict(bad)


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.SGD(p, lr=-0.1), "SGD: lr must be a number >= 0.0, got -0.1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "momentum must be a number >= 0.0, got -0.5"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "nesterov needs momentum > 0 and dampening 0"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening 0.1"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1e-4), "weight_decay must be .* got -0.0001"),
    (lambda p: optim.SGD([{"params": p, "lr": -2.0}], lr=0.1), "lr must be .* got -2.0"),
    (lambda p: optim.Adam(p, lr=float("nan")), "lr must be a number >= 0.0, got nan"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), r"betas must be two numbers in \[0, 1\), got "
                                                 r"\(0.9, 1.0\)"),
    (lambda p: optim.Adam(p, eps=-1e-8), "eps must be .* got -1e-08"),
    (lambda p: optim.AdamW(p, weight_decay=-0.01), "AdamW: weight_decay must be .* got -0.01"),
    (lambda p: optim.RMSprop(p, alpha=-0.9), "RMSprop: alpha must be .* got -0.9"),
    (lambda p: optim.RMSprop(p, momentum=-0.9), "momentum must be .* got -0.9"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Adagrad: lr_decay must be .* got -1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-0.1), "got -0.1"),
    (lambda p: optim.SGD([], lr=0.1), "empty parameter list"),
    (lambda p: optim.SGD(p + p[:1], lr=0.1), "more than once"),
    (lambda p: optim.SGD([p[0] * 2], lr=0.1), r"parameter 0 \(shape \(5, 4\), float64\) must be a "
                                               "floating-point leaf"),
    (lambda p: optim.SGD([mg.tensor([1, 2])], lr=0.1), "int64"),
])
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make(_mg_params())


def test_bad_params_type():
    with pytest.raises(TypeError, match="got a single Tensor; wrap it in a list"):
        optim.SGD(mg.tensor([1.0], requires_grad=True), lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        optim.SGD([mg.tensor([1.0], requires_grad=True), np.ones(2)], lr=0.1)
    opt = optim.SGD(_mg_params()[:1], lr=0.1)
    with pytest.raises(ValueError, match="momentum must be .* got -1"):
        opt.add_param_group({"params": _mg_params()[1:], "momentum": -1})
    assert len(opt.param_groups) == 1


def test_zero_grad_and_closure():
    params = _mg_params()
    opt = optim.SGD(params, lr=0.1)
    x, y = mg.tensor(X), mg.tensor(Y)

    def closure():
        opt.zero_grad()
        loss = _loss(params, x, y)
        loss.backward()
        return loss

    first = opt.step(closure)
    assert first.item() > opt.step(closure).item()
    grad = params[0].grad
    opt.zero_grad(set_to_none=False)
    assert params[0].grad is grad and not grad.data.any() and params[3].grad is None
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_step_refuses_stale_graph():
    """A graph that saved a parameter before the step refuses to backprop afterwards."""
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    opt.step()
    np.testing.assert_allclose(w.data, [0.8, 1.6])
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_step_does_not_touch_grad_or_build_graph():
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([w], lr=0.1, weight_decay=0.5)
    (w * w).sum().backward()
    grad = w.grad.data.copy()
    opt.step()
    assert np.array_equal(w.grad.data, grad) and w.is_leaf and w.grad_fn is None


SCHEDULERS = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[30, 10, 30, 80], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.97)),
    ("CosineAnnealingLR", dict(T_max=100)),
    ("CosineAnnealingLR", dict(T_max=13, eta_min=0.001)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 1.0 / (1.0 + 0.1 * epoch))),
]


def _sgd_pair(torch, lrs=(0.1, 0.02)):
    ours = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(_mg_params(), lrs)], lr=1.0)
    theirs = torch.optim.SGD(
        [{"params": [p], "lr": lr} for p, lr in zip(_torch_params(torch), lrs)], lr=1.0)
    return ours, theirs


@pytest.mark.parametrize("name, kwargs", SCHEDULERS)
def test_scheduler_matches_torch(name, kwargs):
    torch = require("torch")
    opt, ref = _sgd_pair(torch)
    ours = getattr(lr_scheduler, name)(opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(ref, **kwargs)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    for epoch in range(100):
        opt.step()
        ref.step()
        ours.step()
        theirs.step()
        expected = theirs.get_last_lr()
        assert ours.get_last_lr() == pytest.approx(expected, rel=1e-12, abs=1e-15), epoch
        assert [g["lr"] for g in opt.param_groups] == ours.get_last_lr()


@pytest.mark.parametrize("last_epoch", [6, 7, 29])
@pytest.mark.parametrize("name, kwargs", SCHEDULERS)
def test_scheduler_built_at_last_epoch_matches_torch(name, kwargs, last_epoch):
    """Built with last_epoch >= 0 (resuming by hand, with 'initial_lr' in each group), a schedule
    starts from the groups' current lr and continues as PyTorch's does."""
    torch = require("torch")
    opt, ref = _sgd_pair(torch, lrs=(0.05, 0.03))
    for groups, initial in ((opt.param_groups, (0.1, 0.02)), (ref.param_groups, (0.1, 0.02))):
        for group, lr in zip(groups, initial):
            group["initial_lr"] = lr
    ours = getattr(lr_scheduler, name)(opt, last_epoch=last_epoch, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(ref, last_epoch=last_epoch, **kwargs)
    for epoch in range(30):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=1e-15), \
            epoch
        opt.step()
        ref.step()
        ours.step()
        theirs.step()


PLATEAUS = [
    dict(),
    dict(mode="max", factor=0.5, patience=2, threshold=0.05, threshold_mode="abs", cooldown=3),
    dict(factor=0.3, patience=0, cooldown=1, min_lr=[0.01, 0.0]),
    dict(mode="max", threshold=0.01, patience=4, min_lr=0.005),
]


@pytest.mark.parametrize("kwargs", PLATEAUS)
def test_reduce_on_plateau_matches_torch(kwargs):
    torch = require("torch")
    rng = np.random.default_rng(1)
    metrics = np.concatenate([np.linspace(1, 0.5, 30), np.full(20, 0.5), np.linspace(0.5, 0.4, 10),
                              0.4 + 0.05 * rng.random(40)])
    opt, ref = _sgd_pair(torch)
    ours = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(ref, **kwargs)
    changes = 0
    for epoch, metric in enumerate(metrics):
        before = ours.get_last_lr()
        ours.step(mg.tensor(metric) if epoch % 2 else float(metric))
        theirs.step(float(metric))
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12), epoch
        changes += ours.get_last_lr() != before
    assert changes >= 2


@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size must be an integer >= 1, got 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=2.5), "T_max must be an integer >= 1"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, -1]), "milestone .* got -1"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.5), r"factor .* \[0, 1\), got 1.5"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="up"), "'min' or 'max', got 'up'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]), "expected 1 min_lrs"),
    (lambda o: lr_scheduler.LambdaLR(o, [abs, abs]), "expected 1 lr_lambdas"),
    (lambda o: lr_scheduler.StepLR(o, 3, last_epoch=5), "needs 'initial_lr' in param group 0"),
])
def test_bad_scheduler_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make(optim.SGD(_mg_params(), lr=0.1))
    with pytest.raises(TypeError, match="expected an Optimizer, got list"):
        lr_scheduler.ExponentialLR([], gamma=0.5)


RESUMABLE = [
    (lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
     lambda o: lr_scheduler.StepLR(o, step_size=5, gamma=0.7)),
    (lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
     lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=17, eta_min=1e-4)),
    (lambda p: optim.AdamW(p, lr=0.01), lambda o: lr_scheduler.MultiStepLR(o, [12, 31, 44])),
    (lambda p: optim.RMSprop(p, lr=0.003, momentum=0.5, centered=True),
     lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=1)),
    (lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01),
     lambda o: lr_scheduler.ExponentialLR(o, 0.98)),
]


def _train(params, opt, sched, steps):
    """Minibatch steps whose batches come from minigrad's generator (so its state matters)."""
    for _ in range(steps):
        idx = mg.backend.rng().choice(len(X), size=4, replace=False)
        opt.zero_grad()
        loss = _loss(params, mg.tensor(X[idx]), mg.tensor(Y[idx]))
        loss.backward()
        opt.step()
        if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
            sched.step(loss)
        else:
            sched.step()


def _setup(make_opt, make_sched):
    params = [mg.tensor(a, requires_grad=True) for a in INIT]
    groups = [{"params": params[:2]}, {"params": params[2:]}]
    opt = make_opt(groups)
    opt.param_groups[1]["lr"] *= 0.5
    return params, opt, make_sched(opt)


@pytest.mark.parametrize("make_opt, make_sched", RESUMABLE)
def test_resume_continues_the_same_trajectory(tmp_path, make_opt, make_sched):
    mg.manual_seed(7)
    params, opt, sched = _setup(make_opt, make_sched)
    _train(params, opt, sched, 50)
    expected = [p.data.copy() for p in params]
    expected_lr = sched.get_last_lr()

    mg.manual_seed(7)
    params, opt, sched = _setup(make_opt, make_sched)
    _train(params, opt, sched, 23)
    mg.save({"params": params, "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
             "rng": mg.get_rng_state(), "step": 23}, tmp_path / "ckpt.npz")
    _train(params, opt, sched, 5)           # progress after the checkpoint is lost in the "crash"

    mg.manual_seed(12345)
    params, opt, sched = _setup(make_opt, make_sched)
    ckpt = mg.load(tmp_path / "ckpt.npz")
    with mg.no_grad():
        for p, saved in zip(params, ckpt["params"]):
            p.copy_(saved)
    opt.load_state_dict(ckpt["optimizer"])
    sched.load_state_dict(ckpt["scheduler"])
    mg.set_rng_state(ckpt["rng"])
    _train(params, opt, sched, 50 - ckpt["step"])
    for p, e in zip(params, expected):
        assert np.array_equal(p.data, e)
    assert sched.get_last_lr() == expected_lr
    assert math.isfinite(float(_loss(params, mg.tensor(X), mg.tensor(Y)).item()))


@pytest.mark.parametrize("name, kwargs", [OPTIMIZERS[i] for i in (2, 6, 11, 13)])
def test_float32_parameters_stay_float32(name, kwargs):
    torch = require("torch")
    ours = [mg.tensor(a.astype(np.float32), requires_grad=True) for a in INIT]
    theirs = [torch.tensor(a.astype(np.float32), requires_grad=True) for a in INIT]
    opt, ref = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    x, y = X.astype(np.float32), Y.astype(np.float32)
    for _ in range(100):
        opt.zero_grad()
        _loss(ours, mg.tensor(x), mg.tensor(y)).backward()
        opt.step()
        ref.zero_grad()
        _loss(theirs, torch.tensor(x), torch.tensor(y)).backward()
        ref.step()
    for p, q in zip(ours, theirs):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.data, q.detach().numpy(), atol=1e-5)
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values()
               if isinstance(v, np.ndarray))


@pytest.mark.parametrize("name, kwargs", OPTIMIZERS)
def test_step_allocates_no_arrays_after_the_first(name, kwargs):
    """Each update writes its intermediate values into scratch memory: a step after the first
    two allocates far less than one parameter's array (160,000 bytes here)."""
    import tracemalloc
    rng = np.random.default_rng(1)
    params = [mg.tensor(rng.standard_normal((100, 200)), requires_grad=True) for _ in range(3)]
    opt = getattr(optim, name)(params, **kwargs)
    for p in params:
        p.grad = mg.tensor(rng.standard_normal(p.shape))
    opt.step()
    opt.step()
    tracemalloc.start()
    try:
        begin = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        opt.step()
        allocated = tracemalloc.get_traced_memory()[1] - begin
    finally:
        tracemalloc.stop()
    assert allocated < 16_000, f"{name} {kwargs}: a step allocated {allocated} bytes"
