# Writes PyTorch-trained weights as .safetensors plus eval outputs to test/fixtures/io_* (committed; tests never need Python).
#
# Run with Debian's PyTorch:  /usr/bin/python3 scripts/fixtures_io.py
# io_fig1.safetensors: the paper's Figure 1 net as bnlab's buildMlp makes it (Flatten, then [Linear without bias,
#   BatchNorm1d, Identity where bnlab has its Tap, Sigmoid] x 3, Linear), 784-100-100-100-10, trained 30 SGD steps.
# io_cnn.safetensors: conv3x3(4)-BN2d-ReLU-maxpool2-conv3x3(8)-BN2d-ReLU-avgpool2-Flatten-Linear(10) on 1x12x12.
# io_dtypes.safetensors: small tensors in F16, BF16, F64, I64, I32, U8, BOOL and F32, to test the conversions.
# io_outputs.json: fixed inputs and the outputs of both nets in eval and in train mode, and the dtype tensors as float32.
#
# The `safetensors` Python package is not in Debian, so the format is written (and read) by hand below: 8-byte
# little-endian header length, JSON header padded with spaces to 8 bytes, raw little-endian data.
#
# Checking a file bnlab wrote (by hand; the tests cannot run Python):
#   /usr/bin/python3 scripts/fixtures_io.py --check model.safetensors fig1|cnn|model.json io.json
# loads the file into the PyTorch net with load_state_dict(strict=True), runs it in eval mode on io.json's x and
# prints the max abs difference to io.json's y (both {shape, data}).
import copy
import json
import os
import struct
import sys

import torch
from torch import nn

torch.manual_seed(20150211)  # arXiv 1502.03167
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')

DTYPES = {torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float32: 'F32', torch.float64: 'F64',
          torch.int64: 'I64', torch.int32: 'I32', torch.uint8: 'U8', torch.bool: 'BOOL'}
BY_NAME = {v: k for k, v in DTYPES.items()}


def save_safetensors(sd, path, metadata=None):
    """The format by hand: header {name: {dtype, shape, data_offsets}}, data in the dict's order, no holes."""
    header, chunks, off = {}, [], 0
    if metadata:
        header['__metadata__'] = metadata
    for k, t in sd.items():
        t = t.detach().contiguous()
        raw = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[k] = {'dtype': DTYPES[t.dtype], 'shape': list(t.shape), 'data_offsets': [off, off + len(raw)]}
        chunks.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + b''.join(chunks))
    print(f'{path}: {os.path.getsize(path)} bytes')


def load_safetensors(path):
    """A state dict from a .safetensors file (what safetensors.torch.load_file returns)."""
    with open(path, 'rb') as f:
        buf = f.read()
    n = struct.unpack('<Q', buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    header.pop('__metadata__', None)
    out = {}
    for k, e in header.items():
        b, end = e['data_offsets']
        raw = bytearray(buf[8 + n + b:8 + n + end])
        dt = BY_NAME[e['dtype']]
        if dt == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.empty(0, dtype=dt)
        else:
            t = torch.frombuffer(raw, dtype=dt) if raw else torch.empty(0, dtype=dt)
        out[k] = t.reshape(e['shape']).clone()
    return out


def enc(t):
    """A tensor as {shape, data}; 9 significant digits round-trip float32 exactly."""
    t = t.detach().to(torch.float32).contiguous()
    return {'shape': list(t.shape), 'data': [float('%.9g' % v) for v in t.reshape(-1).tolist()]}


def fig1():
    """bnlab's buildMlp({inputs: 784, hidden: [100, 100, 100], classes: 10, activation: 'sigmoid', norm: 'bn'})."""
    layers, width = [nn.Flatten()], 784
    for h in [100, 100, 100]:
        layers += [nn.Linear(width, h, bias=False), nn.BatchNorm1d(h), nn.Identity(), nn.Sigmoid()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 10))


NETS = {'fig1': (fig1, (1, 28, 28)), 'cnn': (cnn, (1, 12, 12))}


def train(model, in_shape, steps=30, batch=60, lr=0.5):
    """A few SGD steps on random data so the weights and running statistics are far from their defaults."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        x = torch.rand(batch, *in_shape) * 2 + 0.5
        y = torch.randint(0, 10, (batch,))
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return model


def net_case(name):
    make, in_shape = NETS[name]
    model = train(make(), in_shape)
    save_safetensors(model.state_dict(), os.path.join(OUT, f'io_{name}.safetensors'), {'format': 'pt', 'arch': name})
    x = torch.rand(16, *in_shape) * 2 + 0.5
    with torch.no_grad():
        y_eval = model.eval()(x)
        y_train = copy.deepcopy(model).train()(x)
    return {'x': enc(x), 'y_eval': enc(y_eval), 'y_train': enc(y_train)}


def dtype_case():
    base = torch.tensor([[0.0, -1.5, 3.140625, 65504.0], [1e-7, -2.0 ** -14, 0.333, 100.0]])
    sd = {'f16': base.to(torch.float16), 'bf16': base.to(torch.bfloat16), 'f64': base.to(torch.float64) / 3,
          'f32': base / 7, 'i64': torch.tensor([-3, 0, 2 ** 40, 7]), 'i32': torch.tensor([[-5, 6]], dtype=torch.int32),
          'u8': torch.tensor([0, 255, 17], dtype=torch.uint8), 'bool': torch.tensor([True, False]),
          'scalar': torch.tensor(12, dtype=torch.int64), 'empty': torch.zeros(0, 3)}
    save_safetensors(sd, os.path.join(OUT, 'io_dtypes.safetensors'))
    return {k: {'dtype': DTYPES[v.dtype], **enc(v.to(torch.float64))} for k, v in sd.items()}


def mlp_from_spec(spec):
    """The net bnlab's buildMlp makes from a model.json spec (norm 'bn' or 'none'; Identity where bnlab has its Tap)."""
    act = {'sigmoid': nn.Sigmoid, 'tanh': nn.Tanh, 'relu': nn.ReLU}[spec['activation']]
    bn = spec['norm'] == 'bn'
    layers, width = [nn.Flatten()], spec['inputs']
    for h in spec['hidden']:
        layers += [nn.Linear(width, h, bias=not bn)] + ([nn.BatchNorm1d(h)] if bn else []) + [nn.Identity(), act()]
        width = h
    return nn.Sequential(*layers, nn.Linear(width, spec['classes']))


def check(path, name, io_json):
    """name: fig1, cnn, or a bnlab trial folder's model.json."""
    if name.endswith('.json'):
        with open(name) as f:
            model = mlp_from_spec(json.load(f)['spec'])
    else:
        model = NETS[name][0]()
    model.load_state_dict(load_safetensors(path), strict=True)
    with open(io_json) as f:
        io = json.load(f)
    x = torch.tensor(io['x']['data'], dtype=torch.float32).reshape(io['x']['shape'])
    with torch.no_grad():
        y = model.eval()(x).reshape(-1)
    ref = torch.tensor(io['y']['data'], dtype=torch.float32)
    print(f'{path}: load_state_dict(strict=True) ok; eval max abs diff to bnlab: {(y - ref).abs().max().item():.3g}')


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--check':
        check(*sys.argv[2:5])
        sys.exit(0)
    out = {'torch': torch.__version__, 'fig1': net_case('fig1'), 'cnn': net_case('cnn'), 'dtypes': dtype_case()}
    path = os.path.join(OUT, 'io_outputs.json')
    with open(path, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    print(f'{path}: {os.path.getsize(path)} bytes')
