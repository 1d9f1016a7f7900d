package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** syncfs(2) through the foreign function API, on this Linux machine. */
class FileSystemSyncTest {
  @TempDir Path dir;

  @Test
  void syncsTheFileSystemOfADirectoryAndClosesOnce() throws Exception {
    FileSystemSync.Opened opened = FileSystemSync.open(dir);
    FileSystemSync sync = opened.sync();
    assertNotNull(sync, "syncfs should be available on Linux: " + opened.unavailable());
    Files.writeString(dir.resolve("f"), "data");

    sync.sync();
    sync.sync();
    sync.close();
    sync.close();

    assertThrows(IllegalStateException.class, sync::sync);
  }

  @Test
  void aMissingDirectoryFailsWithTheSystemsReason() {
    Path missing = dir.resolve("missing");

    var e = assertThrows(IOException.class, () -> FileSystemSync.open(missing));

    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("No such file or directory (errno 2)"), e.getMessage());
  }
}
