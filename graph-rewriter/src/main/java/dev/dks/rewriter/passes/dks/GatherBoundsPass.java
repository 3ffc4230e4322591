package dev.dks.rewriter.passes.dks;

import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.Nodes;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.TensorProtos;
import dev.dks.rewriter.pipeline.PassOutcome;
import dev.dks.rewriter.pipeline.RewriteContext;
import dev.dks.rewriter.pipeline.RewritePass;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;

/**
 * "gather-bounds": a GatherNd whose indices are computed from the network's input (the bilinear
 * sampling of an attention model, coordinates predicted by layers) gets its indices clamped to
 * the params' valid range: {@code indices' = max(min(indices, shape(params)[:k] - 1), 0)} for
 * indices [..., k]. The model's own clamps assume the trained weights (facemesh-attention-pinto
 * clamps to 48 for a 48-wide map, which its trained coordinates never reach); after
 * re-initialization the coordinates are arbitrary, and TensorFlow's CPU kernel fails on an
 * out-of-range index (TF.js returns zeros instead). Valid indices are unchanged. Indices that do
 * not depend on the inputs (constants) are left alone, as are indices whose last dimension is not
 * statically known (reported).
 */
public final class GatherBoundsPass implements RewritePass {
  @Override
  public String name() {
    return "gather-bounds";
  }

  @Override
  public String description() {
    return "clamp GatherNd indices computed from the input to the params' range";
  }

  @Override
  public PassOutcome run(RewriteContext ctx) {
    GraphView g = ctx.graph();
    if (ctx.inputs().isEmpty()) {
      return PassOutcome.unchanged(name(), "no input nodes are known (no signature inputs)");
    }
    Set<String> live = g.ancestors(ctx.outputs());
    List<NodeDef> gathers = new ArrayList<>();
    for (NodeDef n : g.nodes()) {
      if (n.getOp().equals("GatherNd") && live.contains(n.getName())) {
        gathers.add(n);
      }
    }
    if (gathers.isEmpty()) {
      return PassOutcome.unchanged(name(), "no GatherNd");
    }
    Set<String> fromInput = dependsOnInputs(g, ctx.inputs(), live);
    List<String> notes = new ArrayList<>();
    int changed = 0;
    try (Graph tg = new Graph()) {
      GraphImport.into(tg, g.toGraphDef());
      for (NodeDef n : gathers) {
        TensorName idx = TensorName.parse(n.getInput(1));
        if (!fromInput.contains(idx.node())) {
          continue;
        }
        GraphOperation op = tg.operation(idx.node());
        Shape s = op == null ? Shape.unknown() : op.output(idx.index()).shape();
        long k = s.isUnknown() || s.numDimensions() == 0 ? -1 : s.size(s.numDimensions() - 1);
        if (k <= 0) {
          notes.add("left '" + n.getName() + "' alone: the last dimension of its indices is not "
              + "known statically");
          continue;
        }
        DataType t = n.containsAttr("Tindices") ? n.getAttrOrThrow("Tindices").getType()
            : DataType.DT_INT32;
        DataType tp = n.containsAttr("Tparams") ? n.getAttrOrThrow("Tparams").getType()
            : DataType.DT_FLOAT;
        String base = n.getName() + "/dks_bounds";
        String shape = g.uniqueName(base + "/shape");
        g.add(Nodes.op("Shape", shape).input(n.getInput(0)).type("T", tp).type("out_type", t)
            .build());
        String begin = constant(g, base + "/begin", new long[] {0}, DataType.DT_INT32);
        String end = constant(g, base + "/end", new long[] {k}, DataType.DT_INT32);
        String stride = constant(g, base + "/stride", new long[] {1}, DataType.DT_INT32);
        String dims = g.uniqueName(base + "/dims");
        Nodes.Builder ss = Nodes.op("StridedSlice", dims).input(shape).input(begin).input(end)
            .input(stride).type("T", t).type("Index", DataType.DT_INT32);
        for (String mask : List.of("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask",
            "shrink_axis_mask")) {
          ss.attr(mask, AttrValue.newBuilder().setI(0).build());
        }
        g.add(ss.build());
        String one = constant(g, base + "/one", new long[] {1}, t);
        String zero = constant(g, base + "/zero", new long[] {0}, t);
        String hi = g.uniqueName(base + "/last");
        g.add(Nodes.op("Sub", hi).input(dims).input(one).type("T", t).build());
        String min = g.uniqueName(base + "/min");
        g.add(Nodes.op("Minimum", min).input(idx).input(hi).type("T", t).build());
        String max = g.uniqueName(base + "/indices");
        g.add(Nodes.op("Maximum", max).input(min).input(zero).type("T", t).build());
        g.put(n.toBuilder().setInput(1, max).build());
        notes.add("'" + n.getName() + "': indices clamped to the params' range");
        changed++;
      }
    }
    if (changed == 0 && notes.isEmpty()) {
      notes.add("no GatherNd reads indices computed from the input");
    }
    return new PassOutcome(name(), changed, notes);
  }

  /** A 1-D integer constant of dtype {@code t}. */
  private static String constant(GraphView g, String base, long[] values, DataType t) {
    String name = g.uniqueName(base);
    TensorProto.Builder p = TensorProto.newBuilder().setDtype(t)
        .setTensorShape(TensorProtos.shapeProto(new long[] {values.length}));
    for (long v : values) {
      if (t == DataType.DT_INT64) {
        p.addInt64Val(v);
      } else {
        p.addIntVal((int) v);
      }
    }
    g.add(Nodes.constant(name, p.build()));
    return name;
  }

  /** The live nodes that depend on the inputs along data edges. */
  private static Set<String> dependsOnInputs(GraphView g, List<String> inputs, Set<String> live) {
    Set<String> on = new HashSet<>(inputs);
    List<String> frontier = new ArrayList<>(inputs);
    while (!frontier.isEmpty()) {
      String cur = frontier.remove(frontier.size() - 1);
      for (String c : g.consumers(cur)) {
        if (live.contains(c) && !on.contains(c) && Nodes.readsData(g.get(c), cur)) {
          on.add(c);
          frontier.add(c);
        }
      }
    }
    return on;
  }

}
