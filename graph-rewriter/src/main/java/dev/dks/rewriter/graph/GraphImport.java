package dev.dks.rewriter.graph;

import org.tensorflow.Graph;
import org.tensorflow.proto.GraphDef;

/**
 * Imports a GraphDef into a TF Java {@link Graph} safely. TF Java 1.1.0 crashes the JVM (SIGSEGV
 * in {@code TF_GraphImportGraphDefWithResults}) when the serialized GraphDef is empty, i.e. a graph
 * without nodes, versions or library; such a graph is simply not imported.
 */
public final class GraphImport {
  private GraphImport() {}

  /** Imports {@code def} into {@code graph} unless it serializes to zero bytes. */
  public static void into(Graph graph, GraphDef def) {
    if (def.getSerializedSize() == 0) {
      return;
    }
    graph.importGraphDef(def);
  }
}
