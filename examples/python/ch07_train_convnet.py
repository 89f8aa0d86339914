"""The book's ch07/train_convnet.py, ch07/simple_convnet.py and common/trainer.py on dlfs
(Fashion-MNIST).

SimpleConvNet is the book's: Conv1 (30 filters 5x5, pad 0, stride 1), Relu1, Pool1 (2x2,
stride 2), Affine1 (100), Relu2, Affine2 (10) and a SoftmaxWithLoss, weights drawn with
weight_init_std 0.01, trained by Adam (lr 0.001) on batches of 100 for 20 epochs. What changes
(docs/from-the-book.md): the parameters are dlfs tensors on a device, the optimizer is
dlfs.Adam, and .numpy() brings the scores back for np.argmax.

    PYTHONPATH=build/python .venv/bin/python examples/python/ch07_train_convnet.py
    ... --device cuda --epochs 2 --limit-train 3000 --seed 1
"""
import argparse
import pickle
import sys
import time
from collections import OrderedDict

import numpy as np

import dlfs
from dlfs import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss


class SimpleConvNet:
    """conv - relu - pool - affine - relu - affine - softmax

    input_dim: (channels, height, width); conv_param: filter_num, filter_size, pad, stride;
    weight_init_std: the standard deviation of the initial weights.
    """

    def __init__(self, input_dim=(1, 28, 28),
                 conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                 hidden_size=100, output_size=10, weight_init_std=0.01,
                 device="cpu", dtype=np.float32):
        filter_num = conv_param['filter_num']
        filter_size = conv_param['filter_size']
        filter_pad = conv_param['pad']
        filter_stride = conv_param['stride']
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2*filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size/2) * (conv_output_size/2))

        # The book's NumPy initialisation, then each array becomes a dlfs tensor on `device`:
        # the layers hold these same tensors, so the optimizer's in-place update reaches them.
        def parameter(array):
            return dlfs.tensor(array, dtype=dtype, device=device)

        self.params = {}
        self.params['W1'] = parameter(weight_init_std * np.random.randn(
            filter_num, input_dim[0], filter_size, filter_size))
        self.params['b1'] = parameter(np.zeros(filter_num))
        self.params['W2'] = parameter(weight_init_std * np.random.randn(
            pool_output_size, hidden_size))
        self.params['b2'] = parameter(np.zeros(hidden_size))
        self.params['W3'] = parameter(weight_init_std * np.random.randn(hidden_size, output_size))
        self.params['b3'] = parameter(np.zeros(output_size))

        self.layers = OrderedDict()
        self.layers['Conv1'] = Convolution(self.params['W1'], self.params['b1'],
                                           conv_param['stride'], conv_param['pad'])
        self.layers['Relu1'] = Relu()
        self.layers['Pool1'] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers['Affine1'] = Affine(self.params['W2'], self.params['b2'])
        self.layers['Relu2'] = Relu()
        self.layers['Affine2'] = Affine(self.params['W3'], self.params['b3'])

        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)

        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.last_layer.forward(y, t)

    def accuracy(self, x, t, batch_size=100):
        if t.ndim != 1:
            t = np.argmax(t, axis=1)

        acc = 0.0

        for i in range(int(x.shape[0] / batch_size)):
            tx = x[i*batch_size:(i+1)*batch_size]
            tt = t[i*batch_size:(i+1)*batch_size]
            y = self.predict(tx).numpy()
            y = np.argmax(y, axis=1)
            acc += np.sum(y == tt)

        return acc / x.shape[0]

    def numerical_gradient(self, x, t):
        loss_w = lambda w: self.loss(x, t)

        grads = {}
        for idx in (1, 2, 3):
            grads['W' + str(idx)] = dlfs.numerical_gradient(loss_w, self.params['W' + str(idx)])
            grads['b' + str(idx)] = dlfs.numerical_gradient(loss_w, self.params['b' + str(idx)])

        return grads

    def gradient(self, x, t):
        # forward
        self.loss(x, t)

        # backward
        dout = 1
        dout = self.last_layer.backward(dout)

        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)

        grads = {}
        grads['W1'], grads['b1'] = self.layers['Conv1'].dW, self.layers['Conv1'].db
        grads['W2'], grads['b2'] = self.layers['Affine1'].dW, self.layers['Affine1'].db
        grads['W3'], grads['b3'] = self.layers['Affine2'].dW, self.layers['Affine2'].db

        return grads

    def save_params(self, file_name="params.pkl"):
        # NumPy copies, as the book pickles its arrays.
        params = {key: val.numpy().copy() for key, val in self.params.items()}
        with open(file_name, 'wb') as f:
            pickle.dump(params, f)

    def load_params(self, file_name="params.pkl"):
        with open(file_name, 'rb') as f:
            params = pickle.load(f)
        for key, val in params.items():
            # In place: the layers hold these tensors.
            self.params[key].copy_from(dlfs.tensor(val.astype(self.params[key].dtype)))


class Trainer:
    """The book's common/trainer.py: random mini-batches, the optimizer's update, train and test
    accuracy at every epoch (on the first evaluate_sample_num_per_epoch images), the whole test
    set at the end."""

    def __init__(self, network, x_train, t_train, x_test, t_test,
                 epochs=20, mini_batch_size=100, optimizer=None,
                 evaluate_sample_num_per_epoch=None, verbose=True):
        self.network = network
        self.verbose = verbose
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch

        # The book builds the optimizer from a name and a dict; here it is given built.
        self.optimizer = optimizer if optimizer is not None else dlfs.SGD(lr=0.01)

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train_step(self):
        batch_mask = np.random.choice(self.train_size, self.batch_size)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]

        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)

        # The batch's loss before the update, which gradient() computed (the book runs one more
        # forward pass after the update and prints it every iteration).
        self.train_loss_list.append(self.network.last_layer.loss)

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1

            x_train_sample, t_train_sample = self.x_train, self.t_train
            x_test_sample, t_test_sample = self.x_test, self.t_test
            if self.evaluate_sample_num_per_epoch is not None:
                t = self.evaluate_sample_num_per_epoch
                x_train_sample, t_train_sample = self.x_train[:t], self.t_train[:t]
                x_test_sample, t_test_sample = self.x_test[:t], self.t_test[:t]

            train_acc = self.network.accuracy(x_train_sample, t_train_sample)
            test_acc = self.network.accuracy(x_test_sample, t_test_sample)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)

            if self.verbose:
                print("=== epoch:" + str(self.current_epoch) + ", train acc:" + str(train_acc)
                      + ", test acc:" + str(test_acc) + ", train loss:"
                      + "%.4f" % self.train_loss_list[-1] + " ===", flush=True)
        self.current_iter += 1

    def train(self):
        for i in range(self.max_iter):
            self.train_step()

        test_acc = self.network.accuracy(self.x_test, self.t_test)

        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
        return test_acc


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default: cpu)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs (default: 20 as the book)")
    parser.add_argument("--batch-size", type=int, default=100, help="mini-batch (default: 100)")
    parser.add_argument("--limit-train", type=int, default=0,
                        help="use only the first N training images (0: all)")
    parser.add_argument("--limit-test", type=int, default=0,
                        help="use only the first N test images (default: 0, all)")
    parser.add_argument("--seed", type=int, default=0, help="NumPy seed (default: 0)")
    parser.add_argument("--save", metavar="FILE", help="pickle the parameters to FILE at the end "
                        "(the book writes params.pkl)")
    args = parser.parse_args(argv)
    if args.device.startswith("cuda") and not dlfs.cuda_available():
        parser.error("--device %s: no CUDA device (%s)" % (args.device, dlfs.info()["cuda"]))
    return args


def main(argv=None):
    args = parse_arguments(argv)
    np.random.seed(args.seed)

    (x_train, t_train), (x_test, t_test) = dlfs.datasets.fashion_mnist(
        flatten=False, limit_train=args.limit_train)
    if args.limit_test > 0:
        x_test, t_test = x_test[:args.limit_test], t_test[:args.limit_test]

    max_epochs = args.epochs

    network = SimpleConvNet(input_dim=(1, 28, 28),
                            conv_param={'filter_num': 30, 'filter_size': 5, 'pad': 0, 'stride': 1},
                            hidden_size=100, output_size=10, weight_init_std=0.01,
                            device=args.device)

    trainer = Trainer(network, x_train, t_train, x_test, t_test,
                      epochs=max_epochs, mini_batch_size=args.batch_size,
                      optimizer=dlfs.Adam(lr=0.001),
                      evaluate_sample_num_per_epoch=1000)
    start = time.perf_counter()
    test_acc = trainer.train()
    print("%d epochs in %.1f s" % (max_epochs, time.perf_counter() - start))

    if args.save:
        network.save_params(args.save)
        print("Saved Network Parameters to " + args.save)
    return test_acc


if __name__ == "__main__":
    main(sys.argv[1:])
