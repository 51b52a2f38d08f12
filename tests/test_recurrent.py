"""Embedding and the recurrent layers against torch.nn: the torch module's state_dict loads
unchanged (same keys, same order), and with its weights the outputs, the final states and the
gradients of the input, the initial states and every parameter agree in float64; finite
differences on small cells; errors name shapes; a 1,000-step sequence backpropagates."""
import numpy as np
import pytest

import minigrad as mg
import nn
from conftest import gallery_script, require

I, H, T, N = 3, 4, 5, 2


def pair(name, *args, **kwargs):
    """(minigrad module, torch module) of class `name`, torch's weights loaded, both float64."""
    torch = require("torch")
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs)
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state), "parameter names or order differ from torch's"
    ours.load_state_dict({k: mg.tensor(v.numpy()) for k, v in state.items()})
    return ours.double(), theirs


def flat(out):
    """A layer's outputs as a flat list: output, h_n[, c_n] (or h'[, c'] for a cell)."""
    if not isinstance(out, tuple):
        return [out]
    return [t for o in out for t in (o if isinstance(o, tuple) else (o,))]


def check(name, args, kwargs, x, states=None):
    """Forward and backward (random upstream gradients on every output) agree with torch."""
    torch = require("torch")
    ours, theirs = pair(name, *args, **kwargs)
    rng = np.random.default_rng(1)
    xs = [mg.tensor(x, requires_grad=True)] + [mg.tensor(s, requires_grad=True)
                                               for s in states or []]
    ts = [torch.tensor(x, requires_grad=True)] + [torch.tensor(s, requires_grad=True)
                                                  for s in states or []]
    pack = (lambda s: None if not s else s[0] if len(s) == 1 else tuple(s))
    ys, tys = flat(ours(xs[0], pack(xs[1:]))), flat(theirs(ts[0], pack(ts[1:])))
    assert len(ys) == len(tys)
    loss, tloss = 0, 0
    for y, ty in zip(ys, tys):
        assert y.shape == tuple(ty.shape)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), atol=1e-12, rtol=1e-9)
        g = rng.standard_normal(y.shape)
        loss, tloss = loss + (y * mg.tensor(g)).sum(), tloss + (ty * torch.tensor(g)).sum()
    loss.backward()
    tloss.backward()
    for a, ta in zip(xs, ts):
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), atol=1e-12, rtol=1e-9)
    ours_p = dict(ours.named_parameters())
    for n, p in theirs.named_parameters():
        np.testing.assert_allclose(ours_p[n].grad.numpy(), p.grad.numpy(), atol=1e-12, rtol=1e-9,
                                   err_msg=n)


LAYERS = [("LSTM", {}), ("GRU", {}), ("RNN", {}), ("RNN", {"nonlinearity": "relu"})]
OPTIONS = [{}, {"num_layers": 2}, {"bidirectional": True}, {"batch_first": True},
           {"bias": False}, {"num_layers": 2, "bidirectional": True, "batch_first": True}]


@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("name,base", LAYERS, ids=lambda v: str(v))
def test_layer_matches_torch(name, base, options):
    kw = {**base, **options}
    shape = (N, T, I) if kw.get("batch_first") else (T, N, I)
    x = np.random.default_rng(0).standard_normal(shape)
    check(name, (I, H), kw, x)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("kw", [{}, {"num_layers": 2, "bidirectional": True}], ids=str)
def test_initial_states_match_torch(name, kw):
    rng = np.random.default_rng(2)
    LD = kw.get("num_layers", 1) * (1 + kw.get("bidirectional", False))
    states = [rng.standard_normal((LD, N, H)) for _ in range(2 if name == "LSTM" else 1)]
    check(name, (I, H), kw, rng.standard_normal((T, N, I)), states)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_unbatched_input_matches_torch(name):
    rng = np.random.default_rng(3)
    states = [rng.standard_normal((2, H)) for _ in range(2 if name == "LSTM" else 1)]
    check(name, (I, H), {"num_layers": 2}, rng.standard_normal((T, I)), states)


@pytest.mark.parametrize("name,kw", [("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {}),
                                     ("RNNCell", {"nonlinearity": "relu"}),
                                     ("GRUCell", {"bias": False})], ids=str)
@pytest.mark.parametrize("with_state", [False, True])
def test_cell_matches_torch(name, kw, with_state):
    rng = np.random.default_rng(4)
    states = [rng.standard_normal((N, H)) for _ in range(2 if name == "LSTMCell" else 1)]
    check(name, (I, H), kw, rng.standard_normal((N, I)), states if with_state else None)


def test_dropout_between_layers_only_in_training():
    mg.manual_seed(0)
    m = nn.LSTM(I, H, num_layers=2, dropout=0.5).double()
    x = mg.tensor(np.random.default_rng(5).standard_normal((T, N, I)))
    a, b = m(x)[0].numpy(), m(x)[0].numpy()
    assert not np.allclose(a, b), "dropout between layers drew no masks in training"
    m.eval()
    np.testing.assert_array_equal(m(x)[0].numpy(), m(x)[0].numpy())
    m1 = nn.LSTM(I, H, num_layers=1, dropout=0.5).double()     # one layer: nothing to drop
    np.testing.assert_array_equal(m1(x)[0].numpy(), m1(x)[0].numpy())


def test_init_is_uniform_in_one_over_sqrt_hidden():
    mg.manual_seed(0)
    m = nn.GRU(7, 16, num_layers=2, bidirectional=True)
    values = np.concatenate([p.numpy().ravel() for p in m.parameters()])
    assert np.abs(values).max() <= 0.25 and np.abs(values).max() > 0.24
    assert abs(values.mean()) < 0.01


@pytest.mark.parametrize("name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_gradcheck(name):
    rng = np.random.default_rng(6)
    cell = getattr(nn, name)(2, 3).double()
    x = mg.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    h = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    c = mg.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    w = cell.weight_hh
    if name == "LSTMCell":
        assert mg.gradcheck(lambda x, h, c, w: mg.concatenate(list(cell(x, (h, c))), 1),
                            [x, h, c, w])
    else:
        assert mg.gradcheck(lambda x, h, w: cell(x, h), [x, h, w])


def test_layer_gradcheck():
    m = nn.GRU(2, 3, num_layers=2, bidirectional=True).double()
    x = mg.tensor(np.random.default_rng(7).standard_normal((3, 2, 2)), requires_grad=True)
    assert mg.gradcheck(lambda x, w: m(x)[0], [x, m.weight_ih_l1_reverse])


def test_thousand_step_bptt():
    mg.manual_seed(0)
    m = nn.LSTM(2, 3)
    x = mg.randn(1000, 1, 2, requires_grad=True)
    out, (h, c) = m(x)
    (out.sum() + c.sum()).backward()
    assert x.grad.shape == (1000, 1, 2) and np.isfinite(x.grad.numpy()).all()
    assert np.abs(x.grad.numpy()[0]).sum() > 0, "the first step got no gradient"


def test_embedding_matches_torch_with_padding():
    torch = require("torch")
    ours, theirs = pair("Embedding", 6, 3, padding_idx=2)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    y, ty = ours(mg.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(y.numpy(), ty.detach().numpy())
    g = np.random.default_rng(8).standard_normal(y.shape)
    y.backward(mg.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy())
    assert not ours.weight.grad.numpy()[2].any()


def test_embedding_init_and_from_pretrained():
    mg.manual_seed(0)
    e = nn.Embedding(10, 4, padding_idx=-1)
    assert e.padding_idx == 9 and not e.weight.numpy()[9].any() and e.weight.numpy()[:9].all()
    w = mg.tensor(np.arange(12.0).reshape(3, 4))
    f = nn.Embedding.from_pretrained(w)
    assert not f.weight.requires_grad and f.weight is not w
    np.testing.assert_array_equal(f([1]).numpy(), [[4, 5, 6, 7]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    np.testing.assert_array_equal(nn.functional.embedding([[2]], w).numpy(), [[[8, 9, 10, 11]]])


@pytest.mark.parametrize("call,message", [
    (lambda: nn.LSTM(3, 4)(mg.zeros(5, 2, 7)), r"\(5, 2, 7\).*input_size = 3"),
    (lambda: nn.LSTM(3, 4, batch_first=True)(mg.zeros(5, 3)[None, None]), r"\(N, T, I\)"),
    (lambda: nn.GRU(3, 4)(mg.zeros(5, 2, 3), mg.zeros(2, 2, 4)), r"h_0 has shape \(2, 2, 4\).*"
                                                                   r"\(1, 2, 4\)"),
    (lambda: nn.LSTM(3, 4)(mg.zeros(5, 2, 3), mg.zeros(1, 2, 4)), r"\(h_0, c_0\)"),
    (lambda: nn.LSTM(3, 4)(mg.zeros(5, 2, 3), (mg.zeros(1, 2, 4), mg.zeros(1, 3, 4))),
     r"c_0 has shape \(1, 3, 4\)"),
    (lambda: nn.LSTMCell(3, 4)(mg.zeros(2, 5)), r"\(2, 5\).*\(N, 3\)"),
    (lambda: nn.GRUCell(3, 4)(mg.zeros(2, 3), mg.zeros(3, 4)), r"\(2, 4\).*\(3, 4\)"),
    (lambda: nn.RNN(3, 4, nonlinearity="gelu"), "nonlinearity"),
    (lambda: nn.GRU(3, 0), "hidden_size"),
    (lambda: nn.LSTM(3, 4, dropout=1.5), "dropout"),
    (lambda: nn.Embedding(4, 2, padding_idx=4), "padding_idx"),
])
def test_errors_name_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_embedding_refuses_bad_indices():
    with pytest.raises(IndexError, match=r"1 to 4.*\(4, 2\)"):
        nn.Embedding(4, 2)(mg.tensor([[1, 4]]))
    with pytest.raises(TypeError, match=r"integers.*float"):
        nn.Embedding(4, 2)(mg.tensor([0.5]))


def test_the_sequence_pictures_script_draws_every_picture(tmp_path):
    pictures, committed = gallery_script("sequence", "make_sequence.py", out_dir=tmp_path)
    pictures.lstm_step()
    pictures.lstm_unrolled()
    assert sorted(p.name for p in tmp_path.iterdir()) == committed
    step, unrolled = ((tmp_path / f"{n}.svg").read_text() for n in ("lstm_step", "lstm_unrolled"))
    assert step.count(">sigmoid<") == 3 and step.count(">Index<") == 4     # the gates, opened
    assert unrolled.count(">lstm_cell<") == 3 and unrolled.count(">Permute<") == 1
