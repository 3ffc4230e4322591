package dev.dks.savedmodels.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.dks.rewriter.model.Model;
import dev.dks.savedmodels.FrozenGraphReader;
import dev.dks.savedmodels.TestAssets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.audio.DecodeWav;
import org.tensorflow.types.TFloat32;

/**
 * The serving check feeds a string input that a {@code DecodeWav} reads with a WAV it decodes:
 * TensorFlow's own decoder (a second implementation) reads back the 440 Hz tone at a tenth of full
 * scale written by {@link StringInputs#wav}, and ARM's keyword-spotting DS-CNN (a frozen graph of
 * {@code ../shared/models} served from wav bytes) passes the check, where the empty string it was
 * fed before made DecodeWav fail ("Data too short").
 */
class StringInputsTest {

  @Test
  void tensorFlowDecodesTheWavToTheToneWritten() {
    byte[] wav = StringInputs.wav(2, 500);
    try (Graph g = new Graph(); Session s = new Session(g)) {
      Ops tf = Ops.create(g);
      // ISO-8859-1 maps each byte to one char and back, so the constant holds the bytes
      java.nio.charset.Charset latin1 = java.nio.charset.StandardCharsets.ISO_8859_1;
      DecodeWav d = tf.audio.decodeWav(tf.constant(latin1, new String(wav, latin1)));
      try (org.tensorflow.Result r = s.runner().fetch(d.audio()).fetch(d.sampleRate()).run()) {
        TFloat32 audio = (TFloat32) r.get(0);
        assertEquals(500, audio.shape().get(0));
        assertEquals(2, audio.shape().get(1));
        for (int i = 0; i < 500; i += 37) {
          // int16 round(3276.7 sin) over 32768, as TF scales 16-bit PCM
          double want = Math.round(3276.7 * Math.sin(2 * Math.PI * 440.0 * i / 16000)) / 32768.0;
          assertEquals(want, audio.getFloat(i, 0), 1e-6, "sample " + i);
          assertEquals(want, audio.getFloat(i, 1), 1e-6, "sample " + i + ", channel 2");
        }
        assertEquals(16000, ((org.tensorflow.types.TInt32) r.get(1)).getInt());
      }
    }
  }

  @Test
  void aKeywordSpottingModelServedFromWavBytesPassesTheCheck(@TempDir Path tmp) {
    Path pb = TestAssets.sharedModel("frozen_armkws_ds_cnn_s/DS_CNN_S.pb");
    Model m = FrozenGraphReader.read(pb);
    Path dir = tmp.resolve("kws");
    ServingExporter.export(m, dir);
    StringInputs strings = new StringInputs(m.graph());
    // its DecodeWav asks for 1 channel of 16000 samples: a 44-byte header and 2 bytes a sample
    ByteString fed = strings.valueFor("wav_data:0");
    assertEquals(44 + 16000 * 2, fed.size());
    ServingCheck.Result r = ServingCheck.check(dir);
    assertTrue(r.passed(), r.reason());
    // control: the empty string the check fed before does not decode
    try (org.tensorflow.SavedModelBundle b = org.tensorflow.SavedModelBundle.load(dir.toString(),
        ServingExporter.SERVE_TAG);
        org.tensorflow.types.TString empty = org.tensorflow.types.TString.scalarOf("")) {
      RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
          () -> b.session().runner().feed("wav_data:0", empty).fetch("labels_softmax:0").run()
              .close());
      assertTrue(e.getMessage().contains("Data too short"), e.getMessage());
    }
    // control: a string no decoder reads stays empty
    assertEquals(ByteString.EMPTY, strings.valueFor("labels_softmax:0"));
  }
}
