package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * A model of what a device holds after a power cut, kept beside the real files the journal writes
 * through {@link #opener()}, as a POSIX file system may leave it:
 *
 * <ul>
 *   <li>a file's bytes: what its last force made durable, and every positional write and truncation
 *       since;
 *   <li>a directory's names (the segment files' and the released ones'): what its last force made
 *       durable, and every create, rename and delete since. Until that force each of them may or
 *       may not have reached the device, each on its own (nothing orders them before it).
 * </ul>
 *
 * <p>At the step chosen as the moment of the cut (the n-th write, by default; or the n-th of the
 * steps the test counts, see {@link Step}), it runs {@code atCut}, keeps that step as one in
 * progress (it may have reached the device, in part), freezes the model and fails the step (so the
 * journal goes no further); every later step fails too. {@link #crashImage} builds what the device
 * could hold then: the names, each change since its directory's last force applied or not at
 * random, in order; and in each file the durable bytes, with each 512-byte sector of every later
 * write either new or old, and each later truncation done or not, at random (a torn write, sectors
 * landing in any order). {@link #cutNow()} cuts the power between two steps instead, at a moment
 * the test chooses.
 *
 * <p>The journal's renames and deletes reach the model because the opener also implements {@link
 * FileNames}; directory forces, because it opens the directories too. A file the model first sees
 * already on disk (replayed, its tail cut and forced, or left by an earlier journal) is taken as
 * durable as it is, under its name. Public for the job store's tests, which open a store over it.
 */
public final class PowerLossDisk {
  static final int SECTOR = 512;

  /** The steps the model follows, any of which may be counted towards the cut. */
  public enum Step {
    /** A positional write to a file. */
    WRITE,
    /** A force of a file. */
    FORCE,
    /** A truncation of a file. */
    TRUNCATE,
    /** A file created (opened with CREATE_NEW or CREATE where it was not). */
    CREATE,
    /** A file renamed. */
    RENAME,
    /** A file deleted. */
    DELETE,
    /** A force of a directory, which makes the changes to its names before it durable. */
    DIRECTORY_FORCE;

    /** The steps that change or force names, and truncations: what releasing a segment does. */
    public static final Set<Step> NAMES =
        Set.copyOf(EnumSet.of(TRUNCATE, CREATE, RENAME, DELETE, DIRECTORY_FORCE));

    /** Every step. */
    public static final Set<Step> ALL = Set.copyOf(EnumSet.allOf(Step.class));
  }

  /** A change to a file's bytes: a write at {@code position}, or (bytes null) a truncation. */
  private record Change(long position, byte[] bytes) {}

  /** A file, whatever it is named: its durable bytes, the changes since, and its bytes now. */
  private static final class Inode {
    byte[] durable;
    final List<Change> since = new ArrayList<>();
    byte[] now;

    Inode(byte[] bytes) {
      durable = bytes;
      now = bytes.clone();
    }

    void apply(Change c) {
      now = applied(now, c);
    }
  }

  /** A change to a directory's names: {@code inode} created as, renamed to, or deleted from. */
  private record NameChange(Step kind, Path from, Path to, Inode inode) {
    /** Applies this change to {@code names}, if it still applies there. */
    void applyTo(Map<Path, Inode> names) {
      switch (kind) {
        case CREATE -> names.put(to, inode);
        case RENAME -> {
          if (inode != null && names.get(from) == inode) {
            names.remove(from);
            names.put(to, inode);
          }
        }
        case DELETE -> {
          if (inode != null && names.get(from) == inode) {
            names.remove(from);
          }
        }
        default -> throw new AssertionError(kind);
      }
    }

    Path directory() {
      return (kind == Step.CREATE ? to : from).getParent();
    }
  }

  /** The model: files by name now and as last forced, and the name changes in between. */
  private static final class State {
    final Map<Path, Inode> names = new HashMap<>();
    final Map<Path, Inode> durableNames = new HashMap<>();
    final List<NameChange> pending = new ArrayList<>();
    final Set<Path> seen = new HashSet<>(); // every name the model has looked up

    State copy() {
      Map<Inode, Inode> copies = new IdentityHashMap<>();
      State s = new State();
      names.forEach((p, i) -> s.names.put(p, copyOf(i, copies)));
      durableNames.forEach((p, i) -> s.durableNames.put(p, copyOf(i, copies)));
      for (NameChange c : pending) {
        s.pending.add(new NameChange(c.kind, c.from, c.to, copyOf(c.inode, copies)));
      }
      s.seen.addAll(seen);
      return s;
    }

    private static Inode copyOf(Inode i, Map<Inode, Inode> copies) {
      if (i == null) {
        return null;
      }
      return copies.computeIfAbsent(
          i,
          k -> {
            Inode c = new Inode(k.durable.clone());
            c.now = k.now.clone();
            c.since.addAll(k.since);
            return c;
          });
    }
  }

  private final State live = new State();
  private final long cutAt;
  private final Set<Step> counted;
  private final Runnable atCut;
  private long steps;
  private Step cutStep;
  private State frozen;

  /**
   * A disk that loses power at the {@code cutAt}-th step of a kind in {@code counted} (counting
   * from 1), after running {@code atCut} (which notes what was acknowledged by then).
   *
   * @param cutAt the step, from 1
   * @param counted the kinds of steps counted
   * @param atCut runs at the cut, before anything is frozen
   */
  public PowerLossDisk(long cutAt, Set<Step> counted, Runnable atCut) {
    this.cutAt = cutAt;
    this.counted = Set.copyOf(counted);
    this.atCut = atCut;
  }

  /**
   * A disk that loses power at its {@code cutAtWrite}-th positional write (counting from 1), after
   * running {@code atCut} (which notes what was acknowledged by then).
   */
  PowerLossDisk(long cutAtWrite, Runnable atCut) {
    this(cutAtWrite, Set.of(Step.WRITE), atCut);
  }

  /** A disk that loses power only when {@link #cutNow()} is called. */
  public PowerLossDisk() {
    this(Long.MAX_VALUE, () -> {});
  }

  /**
   * Cuts the power now, between two steps: what forces made durable stays, every change since may
   * or may not have reached the device (see {@link #crashImage}), and every later step fails.
   */
  public synchronized void cutNow() {
    if (frozen == null) {
      frozen = live.copy();
    }
  }

  /**
   * Whether the power was cut.
   *
   * @return true once cut
   */
  public synchronized boolean cut() {
    return frozen != null;
  }

  /**
   * The kind of step the power was cut at, or null if it was not cut at a step.
   *
   * @return the kind of step
   */
  public synchronized Step cutStep() {
    return cutStep;
  }

  /**
   * Opens real files behind this model; it also renames and deletes them ({@link FileNames}).
   *
   * @return the opener
   */
  public ChannelOpener opener() {
    return new Opener();
  }

  private static boolean modelled(Path file) {
    String name = file.getFileName().toString();
    return name.endsWith(SegmentFormat.SUFFIX)
        || name.endsWith(SegmentFormat.SUFFIX + SegmentFormat.RELEASED_SUFFIX);
  }

  private static Path key(Path file) {
    return file.toAbsolutePath().normalize();
  }

  /**
   * Writes into {@code into} the segment files (released ones included) of {@code from} as the
   * device could hold them after the cut: each name change since its directory's last force done or
   * not, and in each file each write since its last force torn at random sector by sector and each
   * truncation since done or not.
   *
   * @param from the directory the journal wrote
   * @param into where to write the image (created if needed)
   * @param r chooses which of the unforced changes landed
   * @throws IOException if the files cannot be read or written
   */
  public synchronized void crashImage(Path from, Path into, SplittableRandom r) throws IOException {
    if (frozen == null) {
      throw new IllegalStateException("the power was not cut");
    }
    Files.createDirectories(into);
    Path dir = key(from);
    try (var untouched = Files.list(from)) {
      for (Path f : untouched.toList()) {
        // a file the model never saw is on the device as it is
        if (modelled(f) && !frozen.seen.contains(key(f))) {
          Files.copy(f, into.resolve(f.getFileName()));
        }
      }
    }
    Map<Path, Inode> names = new HashMap<>(frozen.durableNames);
    for (NameChange c : frozen.pending) {
      if (r.nextBoolean()) {
        c.applyTo(names); // this change reached the device
      }
    }
    for (Map.Entry<Path, Inode> e : names.entrySet()) {
      if (!e.getKey().getParent().equals(dir)) {
        continue;
      }
      Inode inode = e.getValue();
      byte[] image = inode.durable.clone();
      for (Change c : inode.since) {
        if (c.bytes == null) {
          if (r.nextBoolean()) {
            image = applied(image, c); // the truncation reached the device
          }
          continue;
        }
        for (int off = 0; off < c.bytes.length; off += SECTOR) {
          if (r.nextBoolean()) {
            continue; // this sector did not reach the device
          }
          int n = Math.min(SECTOR, c.bytes.length - off);
          image =
              applied(
                  image, new Change(c.position + off, Arrays.copyOfRange(c.bytes, off, off + n)));
        }
      }
      Files.write(into.resolve(e.getKey().getFileName()), image);
    }
  }

  /** {@code bytes} after the change {@code c}. */
  private static byte[] applied(byte[] bytes, Change c) {
    if (c.bytes == null) {
      return c.position < bytes.length ? Arrays.copyOf(bytes, (int) c.position) : bytes;
    }
    long end = c.position + c.bytes.length;
    byte[] out = end > bytes.length ? Arrays.copyOf(bytes, (int) end) : bytes;
    System.arraycopy(c.bytes, 0, out, (int) c.position, c.bytes.length);
    return out;
  }

  /**
   * Before a step: fails it if the power is off; if it is the one chosen, records it as in progress
   * ({@code inProgress}), cuts the power and fails it.
   */
  private synchronized void before(Step kind, Runnable inProgress) throws IOException {
    failIfCut();
    if (counted.contains(kind) && ++steps == cutAt) {
      atCut.run();
      inProgress.run(); // the step in progress may have reached the device, in part
      cutStep = kind;
      frozen = live.copy();
      throw new IOException("injected: the power is off (at a " + kind + ")");
    }
  }

  /** Fails a step that ends after the cut (so its end is not acknowledged to the journal). */
  private void failIfCut() throws IOException {
    if (frozen != null) {
      throw new IOException("injected: the power is off");
    }
  }

  /** The file named {@code file}; a name first seen is taken as durable as it is on disk. */
  private Inode lookUp(Path file) throws IOException {
    if (live.seen.add(file) && Files.exists(file)) {
      Inode i = new Inode(Files.readAllBytes(file));
      live.names.put(file, i);
      live.durableNames.put(file, i);
    }
    return live.names.get(file);
  }

  /** Opens real files behind the model, and renames and deletes them. */
  private final class Opener implements ChannelOpener, FileNames {
    @Override
    public FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException {
      if (Files.isDirectory(file)) {
        return new DirectoryChannel(FileChannel.open(file, options), key(file));
      }
      if (!modelled(file)) {
        return FileChannel.open(file, options); // not the lock file, not the direct-I/O probe
      }
      Path k = key(file);
      boolean create =
          options.contains(StandardOpenOption.CREATE_NEW)
              || options.contains(StandardOpenOption.CREATE);
      boolean creating;
      synchronized (PowerLossDisk.this) {
        creating = lookUp(k) == null && create;
        if (creating) {
          Inode fresh = new Inode(new byte[0]);
          before(Step.CREATE, () -> live.pending.add(new NameChange(Step.CREATE, null, k, fresh)));
        }
      }
      FileChannel ch = FileChannel.open(file, options);
      Inode inode;
      synchronized (PowerLossDisk.this) {
        inode = live.names.get(k);
        if (creating && inode == null) {
          inode = new Inode(new byte[0]);
          live.names.put(k, inode);
          live.pending.add(new NameChange(Step.CREATE, null, k, inode));
        }
      }
      if (inode == null) {
        ch.close();
        throw new IllegalStateException("the model lost track of " + k);
      }
      return new Channel(ch, inode);
    }

    @Override
    public void move(Path from, Path to) throws IOException {
      Path f = key(from);
      Path t = key(to);
      synchronized (PowerLossDisk.this) {
        Inode moving = lookUp(f);
        lookUp(t);
        before(Step.RENAME, () -> live.pending.add(new NameChange(Step.RENAME, f, t, moving)));
      }
      FileNames.DEFAULT.move(from, to);
      synchronized (PowerLossDisk.this) {
        Inode moved = live.names.remove(f);
        if (moved != null) {
          live.names.put(t, moved);
          live.pending.add(new NameChange(Step.RENAME, f, t, moved));
        }
      }
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
      if (!modelled(file)) {
        return FileNames.DEFAULT.deleteIfExists(file);
      }
      Path k = key(file);
      synchronized (PowerLossDisk.this) {
        Inode deleting = lookUp(k);
        before(Step.DELETE, () -> live.pending.add(new NameChange(Step.DELETE, k, null, deleting)));
      }
      boolean deleted = FileNames.DEFAULT.deleteIfExists(file);
      synchronized (PowerLossDisk.this) {
        Inode gone = live.names.remove(k);
        if (gone != null) {
          live.pending.add(new NameChange(Step.DELETE, k, null, gone));
        }
      }
      return deleted;
    }
  }

  /** A directory: its forces make the changes to its names durable. */
  private final class DirectoryChannel extends ForwardingFileChannel {
    private final Path dir;

    DirectoryChannel(FileChannel d, Path dir) {
      super(d);
      this.dir = dir;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      before(Step.DIRECTORY_FORCE, () -> {});
      d.force(metaData);
      synchronized (PowerLossDisk.this) {
        failIfCut(); // the cut came first: the force did not finish
        List<NameChange> kept = new ArrayList<>();
        for (NameChange c : live.pending) {
          if (c.directory().equals(dir)) {
            c.applyTo(live.durableNames);
          } else {
            kept.add(c);
          }
        }
        live.pending.clear();
        live.pending.addAll(kept);
      }
    }
  }

  /** A real channel whose positional writes, truncations and forces the model follows. */
  private final class Channel extends ForwardingFileChannel {
    private final Inode inode;

    Channel(FileChannel d, Inode inode) {
      super(d);
      this.inode = inode;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      byte[] bytes = new byte[src.remaining()];
      src.duplicate().get(bytes);
      Change whole = new Change(position, bytes);
      before(Step.WRITE, () -> inode.since.add(whole));
      int n = d.write(src, position);
      Change done = new Change(position, Arrays.copyOf(bytes, n));
      synchronized (PowerLossDisk.this) {
        inode.since.add(done);
        inode.apply(done);
      }
      return n;
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      Change cut = new Change(size, null);
      before(Step.TRUNCATE, () -> inode.since.add(cut));
      d.truncate(size);
      synchronized (PowerLossDisk.this) {
        inode.since.add(cut);
        inode.apply(cut);
      }
      return this;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      before(Step.FORCE, () -> {});
      d.force(metaData);
      synchronized (PowerLossDisk.this) {
        failIfCut(); // the cut came first: the force did not finish
        inode.durable = inode.now.clone();
        inode.since.clear();
      }
    }

    @Override
    public int write(ByteBuffer src) {
      throw new UnsupportedOperationException("the journal writes at positions");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
      throw new UnsupportedOperationException("the journal writes at positions");
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
      throw new UnsupportedOperationException("the journal writes at positions");
    }
  }
}
