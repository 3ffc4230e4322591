package dev.dks.savedmodels.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.graph.TensorName;
import dev.dks.rewriter.model.Model;
import dev.dks.rewriter.model.Signature;
import dev.dks.rewriter.model.TensorSpec;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.DecodeAndCropJpeg;
import org.tensorflow.op.image.DecodeBmp;
import org.tensorflow.op.image.DecodeImage;
import org.tensorflow.op.image.DecodeJpeg;
import org.tensorflow.op.image.DecodePng;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * The serving check feeds a string input that an image decoder reads with a small image in that
 * decoder's format and channels ({@link StringInputs}, {@link EncodedImages}): TensorFlow's own
 * decoders (a second implementation) read each back at 32x32 with the channels asked for, and
 * the pixels of the lossless formats (PNG, BMP) are the pattern written ({@link
 * EncodedImages#value}, computed here from its formula), JPEG's within its compression error. A
 * SavedModel serving from JPEG bytes passes {@code check-serving}; the empty string the check fed
 * before fails to decode (control). A DecodeAndCropJpeg gets a JPEG that holds its constant crop
 * window (a 32-pixel one does not: control). A DecodeBmp with channels 1 is refused by
 * TensorFlow itself for every file, the 8-bit grayscale BMP written for it included (which
 * channels 0 reads back exactly, one channel): check-serving says so by name.
 */
class ImageStringInputsTest {
  private static final int N = EncodedImages.SIDE;

  /**
   * Builds placeholder "bytes" -> {@code decoder}, asks StringInputs what to feed "bytes:0",
   * decodes it and asserts the decoded uint8 image's shape and, when {@code tol >= 0}, pixels.
   */
  private static void decodeFed(BiFunction<Ops, Operand<TString>, Operand<TUint8>> decoder,
      long[] shape, int tol) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.withName("bytes").placeholder(TString.class,
          Placeholder.shape(Shape.scalar()));
      Operand<TUint8> out = decoder.apply(tf, in);
      ByteString fed = new StringInputs(g.toGraphDef()).valueFor("bytes:0");
      assertFalse(fed.isEmpty());
      try (Session s = new Session(g);
          TString t = TString.tensorOfBytes(NdArrays.scalarOfObject(fed.toByteArray()));
          Result r = s.runner().feed(in, t).fetch(out).run()) {
        TUint8 im = (TUint8) r.get(0);
        assertArrayEquals(shape, im.shape().asArray());
        if (tol >= 0) {
          assertPattern(im, shape, tol);
        }
      }
    }
  }

  /** Asserts that every pixel of {@code im} is the pattern within {@code tol}. */
  private static void assertPattern(TUint8 im, long[] shape, int tol) {
    assertPattern(im, shape, tol, 0, 0);
  }

  /**
   * Asserts that every pixel of {@code im} (a crop whose corner is at column {@code x0}, row
   * {@code y0} of the pattern repeated every N pixels) is the pattern within {@code tol}.
   */
  private static void assertPattern(TUint8 im, long[] shape, int tol, int x0, int y0) {
    int channels = (int) shape[shape.length - 1];
    int h = (int) shape[shape.length - 3];
    int w = (int) shape[shape.length - 2];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        for (int c = 0; c < channels; c++) {
          int got = Byte.toUnsignedInt(shape.length == 3 ? im.getByte(y, x, c)
              : im.getByte(0, y, x, c));
          assertEquals(EncodedImages.value((x + x0) % N, (y + y0) % N, c), got, tol,
              "pixel (" + x + ", " + y + ") channel " + c);
        }
      }
    }
  }

  @Test
  void tensorFlowsDecodersReadTheImagesBackWithTheChannelsAsked() {
    for (long c : new long[] {0, 1, 3, 4}) {
      decodeFed((tf, b) -> tf.image.decodePng(b,
          new DecodePng.Options[] {DecodePng.channels(c)}),
          new long[] {N, N, c == 0 ? 3 : c}, 0);
    }
    for (long c : new long[] {0, 1, 3}) {
      // JPEG is lossy: within a few levels on this smooth pattern
      decodeFed((tf, b) -> tf.image.decodeJpeg(b, DecodeJpeg.channels(c)),
          new long[] {N, N, c == 0 ? 3 : c}, 6);
    }
    for (long c : new long[] {0, 3, 4}) {
      decodeFed((tf, b) -> tf.image.decodeBmp(b, DecodeBmp.channels(c)),
          new long[] {N, N, c == 0 ? 3 : c}, 0);
    }
    decodeFed((tf, b) -> tf.image.decodeImage(b,
        new DecodeImage.Options[] {DecodeImage.channels(4L)}),
        new long[] {N, N, 4}, 0);
    // GIF: one RGB frame; its 256-colour palette only approximates the pattern
    decodeFed((tf, b) -> tf.image.decodeGif(b), new long[] {1, N, N, 3}, -1);
  }

  @Test
  void aModelServingFromJpegBytesPassesTheCheckAndTheEmptyStringDoesNot(@TempDir Path tmp) {
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.withName("image_bytes").placeholder(TString.class,
          Placeholder.shape(Shape.scalar()));
      Operand<TFloat32> pixels = tf.dtypes.cast(
          tf.image.decodeJpeg(in, DecodeJpeg.channels(3L)), TFloat32.class);
      tf.withName("mean_rgb").math.mean(pixels, tf.constant(new int[] {0, 1}));
      def = g.toGraphDef();
    }
    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("image_bytes", new TensorSpec(TensorName.of("image_bytes"), DataType.DT_STRING,
            new long[0])),
        Map.of("mean_rgb", new TensorSpec(TensorName.of("mean_rgb"), DataType.DT_FLOAT,
            new long[] {3})));
    Path dir = tmp.resolve("jpeg_model");
    ServingExporter.export(new Model(def, Map.of(), List.of(sig)), dir);
    ServingCheck.Result r = ServingCheck.check(dir);
    assertTrue(r.passed(), r.reason());
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), ServingExporter.SERVE_TAG);
        TString empty = TString.scalarOf("")) {
      RuntimeException e = assertThrows(RuntimeException.class,
          () -> b.session().runner().feed("image_bytes:0", empty).fetch("mean_rgb:0").run()
              .close());
      assertTrue(e.getMessage().toLowerCase().contains("jpeg"), e.getMessage());
    }
  }

  @Test
  void aOneChannelBmpIsEightBitGrayAndTensorFlowRefusesChannelsOneItself(@TempDir Path tmp) {
    // the 8-bit file: TensorFlow's decoder reads it back exactly, as one channel, at channels 0
    byte[] gray = EncodedImages.bmp(1);
    assertEquals(54 + 1024 + N * N, gray.length); // headers, 256-entry palette, 1 byte a pixel
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.placeholder(TString.class);
      Operand<TUint8> zero = tf.image.decodeBmp(in, DecodeBmp.channels(0L));
      Operand<TUint8> one = tf.image.decodeBmp(in, DecodeBmp.channels(1L));
      try (Session s = new Session(g);
          TString t = TString.tensorOfBytes(NdArrays.scalarOfObject(gray));
          Result r = s.runner().feed(in, t).fetch(zero).run()) {
        TUint8 im = (TUint8) r.get(0);
        assertArrayEquals(new long[] {N, N, 1}, im.shape().asArray());
        assertPattern(im, new long[] {N, N, 1}, 0);
        // channels 1: refused for this file too (and for 24 and 32 bits), by TensorFlow
        RuntimeException e = assertThrows(RuntimeException.class,
            () -> s.runner().feed(in, t).fetch(one).run().close());
        assertTrue(e.getMessage().contains("0, 3 or 4"), e.getMessage());
      }
    }
    // what the check feeds such a decoder, and what check-serving says of a model serving it
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.withName("bmp_bytes").placeholder(TString.class,
          Placeholder.shape(Shape.scalar()));
      Operand<TFloat32> pixels = tf.dtypes.cast(
          tf.withName("gray_decoder").image.decodeBmp(in, DecodeBmp.channels(1L)),
          TFloat32.class);
      tf.withName("mean_gray").math.mean(pixels, tf.constant(new int[] {0, 1}));
      def = g.toGraphDef();
    }
    StringInputs strings = new StringInputs(def);
    assertArrayEquals(gray, strings.valueFor("bmp_bytes:0").toByteArray());
    assertTrue(strings.refusal("bmp_bytes:0").contains("'gray_decoder'"));
    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("bmp_bytes", new TensorSpec(TensorName.of("bmp_bytes"), DataType.DT_STRING,
            new long[0])),
        Map.of("mean_gray", new TensorSpec(TensorName.of("mean_gray"), DataType.DT_FLOAT,
            new long[] {1})));
    Path dir = tmp.resolve("bmp_model");
    ServingExporter.export(new Model(def, Map.of(), List.of(sig)), dir);
    ServingCheck.Result r = ServingCheck.check(dir);
    assertFalse(r.passed());
    assertTrue(r.reason().startsWith("input 'bmp_bytes': DecodeBmp 'gray_decoder' asks for "
        + "channels=1"), r.reason());
    // control: a 3-channel BMP decoder is fed and runs, nothing refused
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.withName("rgb_bytes").placeholder(TString.class);
      tf.image.decodeBmp(in, DecodeBmp.channels(3L));
      assertNull(new StringInputs(g.toGraphDef()).refusal("rgb_bytes:0"));
    }
  }

  @Test
  void decodeAndCropJpegGetsAJpegThatHoldsItsCropWindow(@TempDir Path tmp) {
    int[] window = {8, 4, 40, 50}; // y, x, height, width: rows 8-47, columns 4-53
    // TensorFlow reads the fed JPEG back, cropped: 40 x 50, the pattern from (4, 8) on
    decodeFedCrop(window, 6);
    GraphDef def;
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.withName("jpeg_bytes").placeholder(TString.class,
          Placeholder.shape(Shape.scalar()));
      Operand<TFloat32> pixels = tf.dtypes.cast(tf.image.decodeAndCropJpeg(in,
          tf.identity(tf.constant(window)), DecodeAndCropJpeg.channels(3L)), TFloat32.class);
      tf.withName("mean_rgb").math.mean(pixels, tf.constant(new int[] {0, 1}));
      def = g.toGraphDef();
    }
    Signature sig = new Signature(Signature.SERVING_DEFAULT, Signature.PREDICT_METHOD,
        Map.of("jpeg_bytes", new TensorSpec(TensorName.of("jpeg_bytes"), DataType.DT_STRING,
            new long[0])),
        Map.of("mean_rgb", new TensorSpec(TensorName.of("mean_rgb"), DataType.DT_FLOAT,
            new long[] {3})));
    Path dir = tmp.resolve("crop_model");
    ServingExporter.export(new Model(def, Map.of(), List.of(sig)), dir);
    ServingCheck.Result r = ServingCheck.check(dir);
    assertTrue(r.passed(), r.reason());
    // controls: the 32 x 32 JPEG a plain DecodeJpeg gets, and the empty string, do not decode
    try (SavedModelBundle b = SavedModelBundle.load(dir.toString(), ServingExporter.SERVE_TAG);
        TString small = TString.tensorOfBytes(NdArrays.scalarOfObject(EncodedImages.jpeg(3)));
        TString empty = TString.scalarOf("")) {
      for (TString bad : List.of(small, empty)) {
        assertThrows(RuntimeException.class, () -> b.session().runner()
            .feed("jpeg_bytes:0", bad).fetch("mean_rgb:0").run().close());
      }
    }
  }

  /** Decodes what StringInputs feeds a DecodeAndCropJpeg of constant {@code window}. */
  private static void decodeFedCrop(int[] window, int tol) {
    try (Graph g = new Graph()) {
      Ops tf = Ops.create(g);
      Placeholder<TString> in = tf.withName("bytes").placeholder(TString.class,
          Placeholder.shape(Shape.scalar()));
      Operand<TUint8> out = tf.image.decodeAndCropJpeg(in, tf.constant(window),
          DecodeAndCropJpeg.channels(3L));
      ByteString fed = new StringInputs(g.toGraphDef()).valueFor("bytes:0");
      try (Session s = new Session(g);
          TString t = TString.tensorOfBytes(NdArrays.scalarOfObject(fed.toByteArray()));
          Result r = s.runner().feed(in, t).fetch(out).run()) {
        TUint8 im = (TUint8) r.get(0);
        long[] shape = {window[2], window[3], 3};
        assertArrayEquals(shape, im.shape().asArray());
        assertPattern(im, shape, tol, window[1], window[0]);
      }
    }
  }
}
