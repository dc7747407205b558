#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// The Keras MNIST tutorial: 784 -> Dense(1024, relu) -> Dense(10, softmax), categorical
// cross-entropy, mini-batch SGD with batch size 128. Pixels are scaled to [0, 1] by a Rescaling layer.
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

int epochs = args.Length > 0 ? int.Parse(args[0]) : 15;
var (train, test) = Mnist.Load();

var model = new Sequential(
    new Flatten(inputShape: [28, 28]),
    new Rescaling(1f / 255),
    new Dense(1024, activation: "relu"),
    new Dense(10, activation: "softmax")) { Seed = 1 };
model.Summary();

model.Compile(loss: "categorical_crossentropy", optimizer: new SGD(learningRate: 0.1f), metrics: ["accuracy"]);
var history = model.Fit(train, batchSize: 128, epochs: epochs, validationData: test);
var result = model.Evaluate(test);
Console.WriteLine($"Test loss: {result.Loss:F4}, test accuracy: {result.Accuracy:F4}");
Console.WriteLine($"Seconds per epoch (after the first): {history.EpochSeconds.Skip(1).DefaultIfEmpty(history.EpochSeconds[0]).Average():F2}");
