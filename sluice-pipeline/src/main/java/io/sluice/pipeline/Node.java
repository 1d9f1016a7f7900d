package io.sluice.pipeline;

import java.util.List;

/*
 * One step of a pipeline's description: what kind of stage, fed by which nodes, under which name
 * and error policy. Nodes are immutable and shared between Pipeline values, so a pipeline is a
 * reusable description; every terminal call compiles it afresh into a Run (threads and channels).
 */
final class Node {
  final Kind kind;
  final List<Node> inputs;
  final String name; // null: the kind's name
  final ErrorPolicy policy; // null: the run's policy

  Node(Kind kind, List<Node> inputs) {
    this(kind, inputs, null, null);
  }

  private Node(Kind kind, List<Node> inputs, String name, ErrorPolicy policy) {
    this.kind = kind;
    this.inputs = List.copyOf(inputs);
    this.name = name;
    this.policy = policy;
  }

  Node named(String name) {
    return new Node(kind, inputs, name, policy);
  }

  Node withPolicy(ErrorPolicy policy) {
    return new Node(kind, inputs, name, policy);
  }

  /** What a node does when the run starts it. */
  interface Kind {
    /** The stage's default name. */
    String kind();

    /**
     * Starts the stage's threads reading {@code inputs} (one per input node, compiled already) and
     * returns the edge it writes to.
     */
    Edge start(Stage stage, List<Edge> inputs) throws InterruptedException;
  }
}
