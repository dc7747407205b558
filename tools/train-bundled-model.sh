#!/usr/bin/env bash
# Retrains the model that `dendrite serve` ships with (data/models/mnist-convnet.dendrite): Keras's mnist_convnet
# (34,826 parameters) on MNIST with a fixed seed and thread count, so the same command gives the same weights.
# The shipped file was trained with SGD (momentum 0.9, learning rate 0.01) for 18 epochs, pinned here; the convnet
# recipe's own optimizer (Adam) is OPTIMIZER=adam EPOCHS=15. Prints the test accuracy; data/models/README.md quotes it.
set -euo pipefail
cd "$(dirname "$0")/.."
optimizer="${OPTIMIZER:-sgd}" epochs="${EPOCHS:-18}"
settings=(--optimizer "$optimizer")
[ "$optimizer" = sgd ] && settings+=(--lr 0.01 --momentum 0.9)
dotnet run -c Release --project src/Dendrite.Cli -- train --arch convnet "${settings[@]}" --epochs "$epochs" --seed 1 --threads 2 \
  --offline --save data/models/mnist-convnet.dendrite --overwrite
dotnet run -c Release --project src/Dendrite.Cli --no-build -- evaluate --model data/models/mnist-convnet.dendrite --offline
