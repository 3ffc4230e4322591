package dev.dks.rewriter.builder;

import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.TensorProtos;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/** Shared helpers of the builder tests. */
final class BuilderTesting {
  private BuilderTesting() {}

  /** A batch of standard normal inputs for {@code spec}, shape [batch, H, W, C]. */
  static TensorProto gaussianInput(InputShape in, int batch, long seed) {
    Random r = new Random(seed);
    float[] v = new float[Math.toIntExact(batch * in.size())];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) r.nextGaussian();
    }
    return TensorProtos.ofFloats(new long[] {batch, in.height(), in.width(), in.channels()}, v);
  }

  /** Runs the built model's logits on {@code input} in the TF runtime. */
  static TensorProto logits(BuiltModel m, TensorProto input) {
    try (ModelSession s = new ModelSession(m.model())) {
      return s.run(Map.of("input", input), List.of("logits")).get("logits");
    }
  }

  /** Number of nodes of this op type. */
  static long count(GraphDef g, String op) {
    return g.getNodeList().stream().filter(n -> n.getOp().equals(op)).count();
  }

  /** The node with this name (fails when absent). */
  static NodeDef node(GraphDef g, String name) {
    return g.getNodeList().stream().filter(n -> n.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no node named " + name));
  }

  /** True when a node has this name. */
  static boolean has(GraphDef g, String name) {
    return g.getNodeList().stream().anyMatch(n -> n.getName().equals(name));
  }

  /** The value of a float scalar Const node. */
  static float floatConst(GraphDef g, String name) {
    NodeDef n = node(g, name);
    if (!n.getOp().equals("Const")) {
      throw new AssertionError(name + " is a " + n.getOp() + ", not a Const");
    }
    return TensorProtos.floats(n.getAttrOrThrow("value").getTensor())[0];
  }
}
