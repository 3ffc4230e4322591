package dev.dks.savedmodels.export;

import dev.dks.savedmodels.TensorValues;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.proto.GraphOptions;
import org.tensorflow.proto.RewriterConfig;
import org.tensorflow.proto.TensorProto;

/**
 * Writes a TF V2 checkpoint ({@code prefix.index} + {@code prefix.data-00000-of-00001}) through
 * the TF runtime's own {@code SaveV2} op, feeding each value through a placeholder, so the format
 * is exactly what TF's savers and loaders read. Keys are the map's keys.
 */
final class CheckpointWriter {
  private CheckpointWriter() {}

  static void write(Path prefix, Map<String, TensorProto> values) {
    List<Tensor> opened = new ArrayList<>();
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      List<String> names = new ArrayList<>(values.keySet());
      List<Operand<?>> inputs = new ArrayList<>();
      List<Tensor> feeds = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        Tensor t = TensorValues.toTensor(values.get(names.get(i)));
        opened.add(t);
        feeds.add(t);
        inputs.add(g.opBuilder("Placeholder", "value_" + i, tf.scope())
            .setAttr("dtype", t.dataType()).build().output(0));
      }
      var save = g.opBuilder("SaveV2", "save", tf.scope())
          .addInput(tf.constant(prefix.toString()).asOutput())
          .addInput(tf.constant(StandardCharsets.UTF_8, names.toArray(new String[0])).asOutput())
          .addInput(tf.constant(StandardCharsets.UTF_8, emptyStrings(names.size())).asOutput())
          .addInputList(inputs.stream().map(Operand::asOutput)
              .toArray(org.tensorflow.Output<?>[]::new))
          .setAttr("dtypes", inputs.stream().map(o -> o.asOutput().dataType())
              .toArray(org.tensorflow.proto.DataType[]::new))
          .build();
      // Grappler has nothing to optimize in one SaveV2 but costs most of the run (measured)
      ConfigProto config = ConfigProto.newBuilder().setGraphOptions(GraphOptions.newBuilder()
          .setRewriteOptions(RewriterConfig.newBuilder().setDisableMetaOptimizer(true))).build();
      try (Session s = new Session(g, config)) {
        Session.Runner r = s.runner();
        for (int i = 0; i < inputs.size(); i++) {
          r.feed(inputs.get(i), feeds.get(i));
        }
        r.addTarget(save).run().close();
      }
    } finally {
      opened.forEach(Tensor::close);
    }
  }

  private static String[] emptyStrings(int n) {
    String[] s = new String[n];
    java.util.Arrays.fill(s, "");
    return s;
  }
}
