#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// The Keras tutorial with three hidden layers of 128 ReLUs, fed raw 0..255 pixels (no scaling),
// SGD with learning rate 0.001, batch size 32, 10 epochs. The tutorial reports test accuracy 0.9643, loss 0.41.
using Dendrite.Data;
using Dendrite.Layers;
using Dendrite.Models;
using Dendrite.Optimizers;

var ((xTrain, yTrain), (xTest, yTest)) = Mnist.LoadData();   // floats 0..255, labels 0..9
xTrain = xTrain.Reshape(60000, 784);
xTest = xTest.Reshape(10000, 784);
var yTrainOneHot = Datasets.ToCategorical(yTrain, 10);
var yTestOneHot = Datasets.ToCategorical(yTest, 10);

var model = new Sequential { Seed = 1 };
model.Add(new Dense(128, activation: "relu", inputShape: [784]));
model.Add(new Dense(128, activation: "relu"));
model.Add(new Dense(128, activation: "relu"));
model.Add(new Dense(10, activation: "softmax"));
model.Compile(loss: "categorical_crossentropy", optimizer: new SGD(0.001f), metrics: ["accuracy"]);
model.Summary();

var history = model.Fit(xTrain, yTrainOneHot, batchSize: 32, epochs: 10);
var result = model.Evaluate(xTest, yTestOneHot);
Console.WriteLine($"Test loss: {result.Loss:F4}, test accuracy: {result.Accuracy:F4}   (tutorial: loss 0.41, accuracy 0.9643)");
Console.WriteLine($"Seconds per epoch (after the first): {history.EpochSeconds.Skip(1).Average():F2}");
