"""The book's ch05/train_neuralnet.py and ch05/two_layer_net.py on dlfs (Fashion-MNIST).

The class is the book's TwoLayerNet: an OrderedDict of Affine1, Relu1, Affine2 and a
SoftmaxWithLoss, with predict, loss, accuracy, numerical_gradient and gradient. What changes
(docs/from-the-book.md): the parameters are dlfs tensors on a device, the update is
dlfs.SGD(lr).update(params, grads) instead of `params[key] -= lr * grads[key]`, and .numpy()
brings the scores back for np.argmax.

    PYTHONPATH=build/python .venv/bin/python examples/python/ch05_train_neuralnet.py
    ... --device cuda --iters 2000 --limit-train 3000 --seed 1
"""
import argparse
import sys
import time
from collections import OrderedDict

import numpy as np

import dlfs
from dlfs import Affine, Relu, SoftmaxWithLoss


class TwoLayerNet:

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01,
                 device="cpu", dtype=np.float32):
        # The book's NumPy initialisation, then each array becomes a dlfs tensor on `device`:
        # the layers hold these same tensors, so an in-place update of params reaches them.
        def parameter(array):
            return dlfs.tensor(array, dtype=dtype, device=device)

        self.params = {}
        self.params['W1'] = parameter(weight_init_std * np.random.randn(input_size, hidden_size))
        self.params['b1'] = parameter(np.zeros(hidden_size))
        self.params['W2'] = parameter(weight_init_std * np.random.randn(hidden_size, output_size))
        self.params['b2'] = parameter(np.zeros(output_size))

        self.layers = OrderedDict()
        self.layers['Affine1'] = Affine(self.params['W1'], self.params['b1'])
        self.layers['Relu1'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W2'], self.params['b2'])

        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    # x: input data, t: labels (one-hot rows or class indices)
    def loss(self, x, t):
        y = self.predict(x)
        return self.lastLayer.forward(y, t)

    def accuracy(self, x, t):
        y = self.predict(x).numpy()
        y = np.argmax(y, axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)

        accuracy = np.sum(y == t) / float(x.shape[0])
        return accuracy

    # x: input data, t: labels
    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)

        grads = {}
        grads['W1'] = dlfs.numerical_gradient(loss_W, self.params['W1'])
        grads['b1'] = dlfs.numerical_gradient(loss_W, self.params['b1'])
        grads['W2'] = dlfs.numerical_gradient(loss_W, self.params['W2'])
        grads['b2'] = dlfs.numerical_gradient(loss_W, self.params['b2'])

        return grads

    def gradient(self, x, t):
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.lastLayer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        grads = {}
        grads['W1'], grads['b1'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W2'], grads['b2'] = self.layers['Affine2'].dW, self.layers['Affine2'].db

        return grads


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--iters", type=int, default=10000, help="iterations (default: 10000)")
    parser.add_argument("--limit-train", type=int, default=0,
                        help="use only the first N training images (0: all)")
    parser.add_argument("--hidden-size", type=int, default=50,
                        help="hidden units (default: 50 as the book; dlfs's two-layer-net has 100)")
    parser.add_argument("--limit-test", type=int, default=0,
                        help="use only the first N test images (default: 0, all)")
    parser.add_argument("--seed", type=int, default=0, help="NumPy seed (default: 0)")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not dlfs.cuda_available():
        parser.error("--device %s: no CUDA device (%s)" % (args.device, dlfs.info()["cuda"]))
    return args


def main(argv=None):
    args = parse_arguments(argv)
    np.random.seed(args.seed)

    (x_train, t_train), (x_test, t_test) = dlfs.datasets.fashion_mnist(
        normalize=True, one_hot_label=True, limit_train=args.limit_train)
    if args.limit_test > 0:
        x_test, t_test = x_test[:args.limit_test], t_test[:args.limit_test]

    network = TwoLayerNet(input_size=784, hidden_size=args.hidden_size, output_size=10,
                          device=args.device)
    optimizer = dlfs.SGD(lr=0.1)

    iters_num = args.iters
    train_size = x_train.shape[0]
    batch_size = 100

    train_loss_list = []
    train_acc_list = []
    test_acc_list = []

    iter_per_epoch = max(train_size / batch_size, 1)
    start = time.perf_counter()

    for i in range(iters_num):
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]

        grad = network.gradient(x_batch, t_batch)

        # The book: network.params[key] -= learning_rate * grad[key] for each key.
        optimizer.update(network.params, grad)

        # The batch's loss before the update, which gradient() computed (the book runs one more
        # forward pass after the update to record it).
        train_loss_list.append(network.lastLayer.loss)

        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print("train acc, test acc | " + str(train_acc) + ", " + str(test_acc), flush=True)

    train_acc = network.accuracy(x_train, t_train)
    test_acc = network.accuracy(x_test, t_test)
    print("final after %d iterations (%.1f s): train acc %.4f, test acc %.4f"
          % (iters_num, time.perf_counter() - start, train_acc, test_acc))
    return test_acc


if __name__ == "__main__":
    main(sys.argv[1:])
