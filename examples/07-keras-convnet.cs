#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// Keras's "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet), the tutorial that promises about 99%
// test accuracy: Conv2D(32, 3×3, relu) → MaxPooling2D(2) → Conv2D(64, 3×3, relu) → MaxPooling2D(2) → Flatten →
// Dropout(0.5) → Dense(10, softmax); 34,826 parameters; Adam, batch 128, 15 epochs, 10% of the training images held
// out for validation, as the tutorial does. Pass a number of epochs to run fewer.
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 15;
var (train, test) = Mnist.Load();

var model = new Sequential(
    new Reshape([28, 28, 1], inputShape: [28, 28]),   // Keras's x_train[..., None]: one channel
    new Rescaling(1f / 255),
    new Conv2D(32, kernelSize: 3, activation: "relu"),
    new MaxPooling2D(poolSize: 2),
    new Conv2D(64, kernelSize: 3, activation: "relu"),
    new MaxPooling2D(poolSize: 2),
    new Flatten(),
    new Dropout(0.5f),
    new Dense(10, activation: "softmax")) { Seed = 1 };
model.Summary();

model.Compile(loss: "categorical_crossentropy", optimizer: "adam", metrics: ["accuracy"]);
var history = model.Fit(train, batchSize: 128, epochs: epochs, validationSplit: 0.1f);
var (loss, accuracy) = model.Evaluate(test);
Console.WriteLine($"Test loss: {loss:F4}");
Console.WriteLine($"Test accuracy: {accuracy:F4}");
Console.WriteLine($"Seconds per epoch (after the first): {history.EpochSeconds.Skip(1).DefaultIfEmpty(history.EpochSeconds[0]).Average():F2}");
