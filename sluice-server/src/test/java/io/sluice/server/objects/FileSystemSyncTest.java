package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
    assumeTrue(sync != null, "syncfs is unavailable: " + opened.unavailable());
    Files.writeString(dir.resolve("f"), "data");

    sync.sync();
    sync.sync();
    sync.close();
    sync.close();

    assertThrows(IllegalStateException.class, sync::sync);
  }

  @Test
  void aMissingDirectoryFailsWithTheSystemsReason() throws Exception {
    FileSystemSync.Opened available = FileSystemSync.open(dir);
    assumeTrue(available.sync() != null, "syncfs is unavailable: " + available.unavailable());
    available.sync().close();
    Path missing = dir.resolve("missing");

    var e = assertThrows(IOException.class, () -> FileSystemSync.open(missing));

    assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("(errno 2)"), e.getMessage()); // ENOENT, in any locale
  }

  @Test
  void onlyKernelsFrom58OnAreTrustedToReportWriteBackErrors() {
    assertTrue(FileSystemSync.reportsErrors("6.18.44-fc-v782"));
    assertTrue(FileSystemSync.reportsErrors("5.8.0"));
    assertTrue(FileSystemSync.reportsErrors("5.15.0-91-generic"));
    assertFalse(FileSystemSync.reportsErrors("5.7.19"));
    assertFalse(FileSystemSync.reportsErrors("4.18.0-513.el8.x86_64"));
    assertFalse(FileSystemSync.reportsErrors("unknown"));
  }
}
