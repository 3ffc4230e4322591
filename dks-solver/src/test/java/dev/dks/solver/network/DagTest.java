package dev.dks.solver.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** A DAG written node by node must give the same maps as the tree-built ResNet. */
class DagTest {

  /** ResNet-18 v2 with shortcut weight w, as a DAG, against Architectures.resnet. */
  @Test
  void resnet18v2AsDagEqualsTreeStructure() {
    double w = 0.6;
    double[] weights = {w, Math.sqrt(1 - w * w)};
    Dag.Builder b = Dag.builder();
    int x = b.affine(b.input()); // stem conv
    int[] blocks = {2, 2, 2, 2};
    boolean[] projection = {false, true, true, true};
    for (int g = 0; g < 4; g++) {
      for (int j = 0; j < blocks[g]; j++) {
        int shortcut = j == 0 && projection[g] ? b.layer(x) : b.affine(x);
        int r = b.layer(b.layer(x));
        x = b.normalizedSum(weights, shortcut, r);
      }
    }
    b.layer(x);
    Structure dag = Structure.max(b.build(), Structure.chain(2));
    NetworkMaps fromDag = NetworkMaps.of(dag);
    NetworkMaps fromTree = NetworkMaps.of(Architectures.resnet(18, w, true));
    for (double v : new double[] {1.01, 1.1, 1.5}) {
      assertEquals(fromTree.maxSlope(v), fromDag.maxSlope(v), 1e-12 * fromTree.maxSlope(v));
    }
    for (double v : new double[] {0.01, 0.3}) {
      assertEquals(fromTree.maxCurvature(v), fromDag.maxCurvature(v), 1e-12);
    }
    assertEquals(Architectures.resnet(18, w, true).depth(), dag.depth());
  }

  @Test
  void rejectsNodesOutOfTopologicalOrder() {
    assertThrows(IllegalArgumentException.class, () -> new Dag(java.util.List.of(
        new Dag.Node(Dag.Kind.INPUT, new int[0], new double[0]),
        new Dag.Node(Dag.Kind.LAYER, new int[] {2}, new double[0]))));
  }
}
