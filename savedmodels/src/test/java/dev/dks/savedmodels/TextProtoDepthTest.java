package dev.dks.savedmodels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.TextFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.SavedModel;

/**
 * A saved_model.pbtxt nested thousands of levels deep (untrusted models, issue 17): protobuf's
 * TextFormat itself overflows the stack on it (checked here: the hazard is real), while dks's
 * readers end with a ModelFormatException naming the file. {@link TextProtoDepth} counts braces
 * outside strings and comments: a string full of braces and a comment do not count, depth 100
 * (the binary parser's limit) passes and 101 fails.
 */
class TextProtoDepthTest {
  @TempDir Path tmp;

  /** A SavedModel text nested {@code depth} attribute levels deep inside one node. */
  private static String nested(int depth) {
    StringBuilder sb = new StringBuilder("meta_graphs { graph_def { node { name: \"n\" op: "
        + "\"Const\" attr { key: \"value\" value { ");
    for (int i = 0; i < depth; i++) {
      sb.append("list { func { attr { key: \"k\" value { ");
    }
    sb.append("} } } } ".repeat(depth));
    return sb.append("} } } } }").toString();
  }

  @Test
  void aDeeplyNestedPbtxtIsRefusedBeforeTextFormatOverflows() throws Exception {
    String deep = nested(3000);
    assertThrows(StackOverflowError.class, () -> TextFormat.merge(deep,
        SavedModel.newBuilder()), "control: TextFormat has no recursion limit");
    Path dir = Files.createDirectories(tmp.resolve("deep"));
    Files.writeString(dir.resolve("saved_model.pbtxt"), deep);
    ModelFormatException e = assertThrows(ModelFormatException.class,
        () -> SavedModelReader.parseSavedModel(dir));
    assertTrue(e.getMessage().contains("saved_model.pbtxt nests messages more than 100"),
        e.getMessage());
    assertThrows(ModelFormatException.class, () -> ModelReaders.read(dir));
    // a shallow one parses
    SavedModel.Builder b = SavedModel.newBuilder();
    TextFormat.merge(nested(5), b);
    Files.writeString(dir.resolve("saved_model.pbtxt"), nested(5));
    assertEquals(b.build(), SavedModelReader.parseSavedModel(dir));
  }

  @Test
  void depthIsCountedOutsideStringsAndComments() {
    TextProtoDepth.requireWithinLimit("a " + "{ ".repeat(100) + "} ".repeat(100), "t");
    assertThrows(ModelFormatException.class, () -> TextProtoDepth.requireWithinLimit(
        "a " + "< ".repeat(101) + "> ".repeat(101), "t"));
    String braces = "{".repeat(500);
    TextProtoDepth.requireWithinLimit("s: \"" + braces + "\" t: '" + braces + "\\' " + braces
        + "' # " + braces + "\nu: 1", "t");
  }
}
