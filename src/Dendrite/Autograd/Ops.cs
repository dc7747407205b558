namespace Dendrite;

/// <summary>
/// The graph's operations. Each builds a node; nothing is computed until the graph runs
/// (<see cref="Node.Evaluate"/> or <see cref="Node.Backward"/>). Shapes are checked here, when the
/// graph is built, with -1 standing for the batch size.
/// </summary>
/// <remarks>Each family of ops has a file of its own (MatMulOps.cs, ElementwiseOps.cs, LossOps.cs, ...), each op's forward and backward rule side by side.</remarks>
public static partial class Ops;
