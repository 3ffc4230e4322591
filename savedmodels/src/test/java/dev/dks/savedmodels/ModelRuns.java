package dev.dks.savedmodels;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.graph.GraphImport;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.ModelSession;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.Tensor;
import org.tensorflow.op.Ops;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.Example;
import org.tensorflow.proto.Feature;
import org.tensorflow.proto.Features;
import org.tensorflow.proto.FloatList;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

/** Test helpers: random feeds, running originals and rebuilt models. */
final class ModelRuns {
  private ModelRuns() {}

  /** Random values for every input of {@code s}; -1 dimensions become {@code batch}. */
  static Map<String, TensorProto> randomFeeds(Signature s, Random rnd, int batch) {
    Map<String, TensorProto> feeds = new LinkedHashMap<>();
    for (TensorSpec in : s.inputs().values()) {
      // unknown rank: a scalar, except tf.Example strings, which parsers want as a vector
      long[] shape = in.shape() != null ? in.shape().clone()
          : in.dtype() == DataType.DT_STRING ? new long[] {-1} : new long[0];
      for (int i = 0; i < shape.length; i++) {
        if (shape[i] < 0) {
          shape[i] = batch;
        }
      }
      feeds.put(in.tensor().toString(), random(in.dtype(), shape, rnd));
    }
    return feeds;
  }

  /** True when TF Java can feed every input of {@code s}. */
  static boolean feedable(Signature s) {
    return s.inputs().values().stream().allMatch(t -> TensorValues.supported(t.dtype()));
  }

  private static TensorProto random(DataType dtype, long[] shape, Random rnd) {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    TensorShapeProto sp = TensorValues.shapeProto(shape);
    TensorProto.Builder b = TensorProto.newBuilder().setDtype(dtype).setTensorShape(sp);
    ByteBuffer bb;
    switch (dtype) {
      case DT_FLOAT -> {
        bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putFloat((float) rnd.nextGaussian());
        }
      }
      case DT_DOUBLE -> {
        bb = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putDouble(rnd.nextGaussian());
        }
      }
      case DT_INT32 -> {
        bb = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putInt(rnd.nextInt(3));
        }
      }
      case DT_INT64 -> {
        bb = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
          bb.putLong(rnd.nextInt(11) - 5);
        }
      }
      case DT_UINT8, DT_BOOL -> {
        bb = ByteBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
          bb.put((byte) rnd.nextInt(dtype == DataType.DT_BOOL ? 2 : 10));
        }
      }
      case DT_STRING -> {
        // serialized tf.Example protos with float features x and x2 (TF Serving test models)
        for (int i = 0; i < n; i++) {
          Features.Builder f = Features.newBuilder();
          for (String key : List.of("x", "x2")) {
            f.putFeature(key, Feature.newBuilder().setFloatList(FloatList.newBuilder()
                .addValue((float) rnd.nextGaussian())).build());
          }
          b.addStringVal(Example.newBuilder().setFeatures(f).build().toByteString());
        }
        return b.build();
      }
      default -> throw new IllegalArgumentException("no random values for " + dtype);
    }
    return b.setTensorContent(ByteString.copyFrom(bb.array())).build();
  }

  /** Runs a graph in {@code session} with feeds and fetches given by tensor name. */
  static Map<String, TensorProto> run(Session session, Map<String, TensorProto> feeds,
      List<String> fetches) {
    List<Tensor> open = new ArrayList<>();
    try {
      Session.Runner r = session.runner();
      for (Map.Entry<String, TensorProto> f : feeds.entrySet()) {
        Tensor t = TensorValues.toTensor(f.getValue());
        open.add(t);
        r.feed(f.getKey(), t);
      }
      fetches.forEach(r::fetch);
      Map<String, TensorProto> out = new LinkedHashMap<>();
      try (Result res = r.run()) {
        for (int i = 0; i < fetches.size(); i++) {
          out.put(fetches.get(i), TensorValues.toProto(res.get(i)));
        }
      }
      return out;
    } finally {
      open.forEach(Tensor::close);
    }
  }

  /**
   * Max abs difference of two tensors of the same dtype and shape (float types numerically,
   * others exactly: 0 or infinity).
   */
  static double maxDiff(TensorProto a, TensorProto b) {
    if (a.getDtype() != b.getDtype() || !a.getTensorShape().equals(b.getTensorShape())) {
      return Double.POSITIVE_INFINITY;
    }
    if (a.getDtype() == DataType.DT_FLOAT || a.getDtype() == DataType.DT_DOUBLE) {
      boolean f = a.getDtype() == DataType.DT_FLOAT;
      ByteBuffer x = a.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer y = b.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      double max = 0;
      while (x.hasRemaining()) {
        double d = f ? Math.abs(x.getFloat() - y.getFloat()) : Math.abs(x.getDouble()
            - y.getDouble());
        max = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(max, d);
      }
      return max;
    }
    return a.equals(b) ? 0 : Double.POSITIVE_INFINITY;
  }

  /** A session on a rebuilt model: {@link ModelSession} when it can, else {@link AnySession}. */
  interface Runner extends AutoCloseable {
    Map<String, TensorProto> run(Map<String, TensorProto> feeds, List<String> fetches);

    @Override
    void close();
  }

  /** True when the model's variables and the signature's inputs are all float32. */
  static boolean floatOnly(Model m, Signature s) {
    return m.variables().values().stream().allMatch(t -> t.getDtype() == DataType.DT_FLOAT)
        && s.inputs().values().stream().allMatch(t -> t.dtype() == DataType.DT_FLOAT);
  }

  /** ModelSession when {@code modelSession}, else AnySession. */
  static Runner open(Model m, boolean modelSession) {
    if (modelSession) {
      ModelSession s = new ModelSession(m);
      return new Runner() {
        @Override
        public Map<String, TensorProto> run(Map<String, TensorProto> f, List<String> fetches) {
          return s.run(f, fetches);
        }

        @Override
        public void close() {
          s.close();
        }
      };
    }
    AnySession s = new AnySession(m);
    return new Runner() {
      @Override
      public Map<String, TensorProto> run(Map<String, TensorProto> f, List<String> fetches) {
        return ModelRuns.run(s.session, f, fetches);
      }

      @Override
      public void close() {
        s.close();
      }
    };
  }

  /** Like ModelSession, for variables of any dtype TF Java has tensors for. */
  static final class AnySession implements AutoCloseable {
    final Graph graph = new Graph();
    final Session session;

    AnySession(Model m) {
      Session s = null;
      try {
        GraphImport.into(graph, m.graph());
        s = new Session(graph);
        Ops tf = Ops.create(graph);
        Session.Runner r = s.runner();
        List<Tensor> open = new ArrayList<>();
        try {
          int i = 0;
          for (Map.Entry<String, TensorProto> e : m.variables().entrySet()) {
            GraphOperation v = graph.operationOrThrow(e.getKey());
            GraphOperation ph = graph.opBuilder("Placeholder", "test_value_" + i, tf.scope())
                .setAttr("dtype", e.getValue().getDtype()).build();
            GraphOperation assign = graph.opBuilder("Assign", "test_assign_" + i, tf.scope())
                .addInput(v.output(0)).addInput(ph.output(0)).build();
            Tensor t = TensorValues.toTensor(e.getValue());
            open.add(t);
            r.feed(ph.output(0), t).addTarget(assign);
            i++;
          }
          if (i > 0) {
            r.run().close();
          }
        } finally {
          open.forEach(Tensor::close);
        }
        session = s;
      } catch (RuntimeException e) {
        if (s != null) {
          s.close();
        }
        graph.close();
        throw e;
      }
    }

    @Override
    public void close() {
      session.close();
      graph.close();
    }
  }
}
