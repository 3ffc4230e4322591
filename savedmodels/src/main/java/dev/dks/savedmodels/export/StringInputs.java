package dev.dks.savedmodels.export;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.graph.ConstReads;
import dev.dks.rewriter.graph.GraphView;
import dev.dks.rewriter.graph.TensorName;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

/**
 * What the serving check feeds a string input: bytes the graph can decode. A string placeholder
 * that a {@code DecodeWav} reads (directly or through {@code Identity} ops) gets a RIFF/WAVE file
 * of 16-bit PCM at 16 kHz with the decoder's {@code desired_channels} and {@code desired_samples}
 * (1 channel and 16,000 samples, one second, where they are -1), filled with a low-amplitude
 * deterministic tone, so that a keyword-spotting model served from wav bytes runs as TF Serving
 * would run it. One that a {@code DecodeJpeg}, {@code DecodeAndCropJpeg}, {@code DecodePng},
 * {@code DecodeImage}, {@code DecodeBmp} or {@code DecodeGif} reads gets a small image in that
 * format with the decoder's {@code channels} ({@link EncodedImages}; DecodeImage gets a PNG); for
 * DecodeAndCropJpeg a JPEG that holds its crop window when the window is a constant (read through
 * Identity ops; [y, x, height, width]), else the {@value EncodedImages#SIDE}-pixel square. Any
 * other string input gets the empty string. A decoder TensorFlow refuses to run whatever the
 * bytes (DecodeBmp with channels 1) is named by {@link #refusal}.
 */
final class StringInputs {
  /** Samples of a WAV whose decoder does not ask for a length: one second at 16 kHz. */
  static final int DEFAULT_SAMPLES = 16_000;
  /** The sample rate written in the header. */
  static final int SAMPLE_RATE = 16_000;

  /** The decoders whose string input gets decodable bytes. */
  static final Set<String> DECODERS = Set.of("DecodeWav", "DecodeJpeg", "DecodeAndCropJpeg",
      "DecodePng", "DecodeImage", "DecodeBmp", "DecodeGif");

  private final GraphView graph;

  StringInputs(GraphDef graph) {
    this.graph = GraphView.of(graph);
  }

  /** The bytes to feed as each element of the string tensor {@code tensorName} ("node:0"). */
  ByteString valueFor(String tensorName) {
    NodeDef d = decoderReading(TensorName.parse(tensorName).node());
    if (d == null) {
      return ByteString.EMPTY;
    }
    int channels = (int) attrInt(d, "channels", 0);
    byte[] bytes = switch (d.getOp()) {
      case "DecodeWav" -> {
        long wavChannels = attrInt(d, "desired_channels", -1);
        long samples = attrInt(d, "desired_samples", -1);
        yield wav(wavChannels > 0 ? (int) wavChannels : 1,
            samples > 0 ? (int) samples : DEFAULT_SAMPLES);
      }
      case "DecodeJpeg" -> EncodedImages.jpeg(channels);
      case "DecodeAndCropJpeg" -> {
        int[] w = cropWindow(d);
        yield w == null ? EncodedImages.jpeg(channels)
            : EncodedImages.jpeg(channels, Math.max(EncodedImages.SIDE, w[1] + w[3]),
                Math.max(EncodedImages.SIDE, w[0] + w[2]));
      }
      case "DecodeBmp" -> EncodedImages.bmp(channels);
      case "DecodeGif" -> EncodedImages.gif();
      default -> EncodedImages.png(channels); // DecodePng, DecodeImage (which reads PNG)
    };
    return ByteString.copyFrom(bytes);
  }

  /**
   * Why no bytes fed to the string tensor {@code tensorName} can be decoded, or null: a DecodeBmp
   * with channels 1, which TensorFlow 2.18's BMP decoder refuses before it reads the file ("must
   * be 0, 3 or 4 for BMP"), so TF Serving on that version cannot serve the model from BMP bytes.
   */
  String refusal(String tensorName) {
    NodeDef d = decoderReading(TensorName.parse(tensorName).node());
    if (d == null || !d.getOp().equals("DecodeBmp") || attrInt(d, "channels", 0) != 1) {
      return null;
    }
    return "DecodeBmp '" + d.getName() + "' asks for channels=1, which TensorFlow's BMP decoder "
        + "refuses for every file (it takes 0, 3 or 4), so no BMP bytes can be served: set its "
        + "channels to 0 (an 8-bit grayscale BMP then decodes to 1 channel) or to 3 and convert "
        + "to gray in the graph";
  }

  /**
   * The crop window [y, x, height, width] of a DecodeAndCropJpeg when its second input is a
   * constant of 4 non-negative ints (through Identity ops), else null.
   */
  private int[] cropWindow(NodeDef decoder) {
    if (decoder.getInputCount() < 2) {
      return null;
    }
    int[] w;
    try {
      w = ConstReads.ints(graph, TensorName.parse(decoder.getInput(1)));
    } catch (ArithmeticException beyondInt) {
      return null;
    }
    if (w == null || w.length != 4) {
      return null;
    }
    for (int v : w) {
      if (v < 0 || v > MAX_CROP_SIDE) {
        return null;
      }
    }
    return w;
  }

  /** The largest crop-window end written: larger windows get the default square. */
  static final int MAX_CROP_SIDE = 4096;

  /**
   * The first node of a decoder op ({@link #DECODERS}) that reads {@code node} through Identity
   * ops, or null.
   */
  private NodeDef decoderReading(String node) {
    Deque<String> todo = new ArrayDeque<>(List.of(node));
    Set<String> seen = new HashSet<>();
    while (!todo.isEmpty()) {
      String at = todo.pop();
      if (!seen.add(at)) {
        continue;
      }
      for (String name : graph.consumers(at)) {
        NodeDef r = graph.get(name);
        if (DECODERS.contains(r.getOp())) {
          return r;
        }
        if (r.getOp().equals("Identity")) {
          todo.push(r.getName());
        }
      }
    }
    return null;
  }

  private static long attrInt(NodeDef n, String name, long fallback) {
    return n.getAttrMap().containsKey(name) ? n.getAttrMap().get(name).getI() : fallback;
  }

  /**
   * A RIFF/WAVE file of 16-bit PCM, {@code channels} interleaved channels of {@code samples}
   * frames at {@link #SAMPLE_RATE}: a 440 Hz tone at a tenth of full scale.
   */
  static byte[] wav(int channels, int samples) {
    int dataBytes = Math.multiplyExact(Math.multiplyExact(samples, channels), 2);
    ByteBuffer b = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(36 + dataBytes)
        .put("WAVE".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .put("fmt ".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(16)
        .putShort((short) 1) // PCM
        .putShort((short) channels).putInt(SAMPLE_RATE).putInt(SAMPLE_RATE * channels * 2)
        .putShort((short) (channels * 2)).putShort((short) 16)
        .put("data".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(dataBytes);
    for (int i = 0; i < samples; i++) {
      short v = (short) Math.round(3276.7 * Math.sin(2 * Math.PI * 440.0 * i / SAMPLE_RATE));
      for (int c = 0; c < channels; c++) {
        b.putShort(v);
      }
    }
    return b.array();
  }
}
