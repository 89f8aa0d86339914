"""The book's NumPy layers (common/layers.py, common/util.py), rewritten here as the reference the
dlfs classes must match: same inputs, same outputs and gradients."""
import numpy as np


def im2col(x, fh, fw, stride, pad):
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for y in range(fh):
        for xx in range(fw):
            col[:, :, y, xx] = img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def col2im(col, shape, fh, fw, stride, pad):
    n, c, h, w = shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    col = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(fh):
        for xx in range(fw):
            img[:, :, y:y + stride * oh:stride, xx:xx + stride * ow:stride] += col[:, :, y, xx]
    return img[:, :, pad:h + pad, pad:w + pad]


def affine(x, W, b, dout):
    x2 = x.reshape(x.shape[0], -1)
    return x2 @ W + b, (dout @ W.T).reshape(x.shape), x2.T @ dout, dout.sum(axis=0)


def convolution(x, W, b, stride, pad, dout):
    fn, c, fh, fw = W.shape
    n, _, h, w = x.shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    col = im2col(x, fh, fw, stride, pad)
    col_w = W.reshape(fn, -1).T
    out = (col @ col_w + b).reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)
    if dout is None:
        return out, None, None, None
    d = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
    db = d.sum(axis=0)
    dW = (col.T @ d).transpose(1, 0).reshape(fn, c, fh, fw)
    dx = col2im(d @ col_w.T, x.shape, fh, fw, stride, pad)
    return out, dx, dW, db


def max_pooling(x, ph, pw, stride, pad, dout):
    """The book's Pooling, except that padding is -inf (as in PyTorch and dlfs) where the book's
    im2col pads with zeros; the two agree without padding."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - ph) // stride + 1, (w + 2 * pad - pw) // stride + 1
    padded = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], constant_values=-np.inf)
    col = im2col(padded, ph, pw, stride, 0).reshape(-1, ph * pw)
    arg_max = np.argmax(col, axis=1)
    out = np.max(col, axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)
    if dout is None:
        return out, None
    d = dout.transpose(0, 2, 3, 1)
    dmax = np.zeros((d.size, ph * pw), dtype=x.dtype)
    dmax[np.arange(arg_max.size), arg_max.flatten()] = d.flatten()
    dcol = dmax.reshape(d.shape + (ph * pw,)).reshape(n * oh * ow, -1)
    dx = col2im(dcol, padded.shape, ph, pw, stride, 0)
    return out, dx[:, :, pad:pad + h, pad:pad + w]


def softmax_with_loss(x, t):
    x = x - x.max(axis=1, keepdims=True)
    y = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    n = x.shape[0]
    if t.ndim == 1:
        loss = -np.log(y[np.arange(n), t] + 1e-7).sum() / n
        dx = y.copy()
        dx[np.arange(n), t] -= 1
    else:
        loss = -np.sum(t * np.log(y + 1e-7)) / n
        dx = y - t
    return loss, y, dx / n


def batch_norm_train(x, gamma, beta, eps, dout):
    mu = x.mean(axis=0)
    xc = x - mu
    var = np.mean(xc ** 2, axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    out = gamma * xn + beta
    n = x.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(xn * dout, axis=0)
    dxn = gamma * dout
    dxc = dxn / std
    dstd = -np.sum((dxn * xc) / (std * std), axis=0)
    dvar = 0.5 * dstd / std
    dxc += (2.0 / n) * xc * dvar
    dmu = np.sum(dxc, axis=0)
    dx = dxc - dmu / n
    return out, dx, dgamma, dbeta, mu, var
