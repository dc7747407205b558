#:project ../src/Dendrite/Dendrite.csproj
#:property PublishAot=false
// The low-level TensorFlow tutorial: placeholders, variables, matmul, softmax cross-entropy, an optimizer's
// minimize giving the training step, next_batch, and accuracy computed in the graph, run for 1000 mini-batch
// iterations (the tutorial reaches about 95.5%).
using Dendrite;
using Dendrite.Data;
using Dendrite.Optimizers;

var (train, test) = Mnist.Load();
var rng = new Rng(1);

var x = new Placeholder(784);                                      // tf.placeholder(tf.float32, [None, 784])
var y = new Placeholder(10);
var w1 = new Variable([784, 256], "truncated_normal", rng); var b1 = new Variable(new Tensor(256));
var w2 = new Variable([256, 128], "truncated_normal", rng); var b2 = new Variable(new Tensor(128));
var w3 = new Variable([128, 10], "truncated_normal", rng);  var b3 = new Variable(new Tensor(10));
var h1 = Ops.Relu(Ops.MatMul(x, w1) + b1);
var h2 = Ops.Relu(Ops.MatMul(h1, w2) + b2);
var logits = Ops.MatMul(h2, w3) + b3;
var loss = Ops.SoftmaxCrossEntropy(logits, y);                     // tf.nn.softmax_cross_entropy_with_logits
var trainStep = new SGD(learningRate: 0.5f).Minimize(loss);        // tf.train.GradientDescentOptimizer(0.5).minimize(...)
var correct = Ops.Equal(Ops.ArgMax(logits, 1), Ops.ArgMax(y, 1));  // tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
var accuracy = Ops.Mean(Ops.Cast(correct));                        // tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

var batches = train.Batches(rng);                                  // mnist.train: pixels in [0, 1], one-hot labels, reshuffled each epoch
var clock = System.Diagnostics.Stopwatch.StartNew();
for (int i = 0; i < 1000; i++)
{
    var (images, labels) = batches.NextBatch(100);                 // mnist.train.next_batch(100)
    float batchLoss = trainStep.Run((x, images.Reshape(-1, 784)), (y, labels));   // sess.run(train_step, feed_dict=...)
    if ((i + 1) % 100 == 0) Console.WriteLine($"iteration {i + 1,4}: mini-batch loss {batchLoss:F4}");
}

Console.WriteLine($"1000 iterations in {clock.Elapsed.TotalSeconds:F2} s");
x.Feed((test.ImagesAsTensor() / 255f).Reshape(-1, 784)); y.Feed(test.OneHotLabels());
float testAccuracy = accuracy.Evaluate();
Console.WriteLine($"Test accuracy after 1000 iterations: {testAccuracy:F4}   (tutorial: about 0.955)");
