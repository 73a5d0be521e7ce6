package dev.reliablestore.spi;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class DurableFilesTest {

    @TempDir
    Path dir;

    /**
     * A directory flush after a rename that took effect: an interrupted caller (a cancelled request, an
     * executor shutting down) still gets it done, and keeps its interrupt. Cut short, the file provider
     * took it for a failing disk and stopped accepting writes.
     */
    @Test
    void anInterruptedThreadStillFlushesADirectoryAndKeepsItsInterrupt() throws IOException {
        DurableFiles.writeAndRename(dir.resolve("a.json"), dir.resolve(".tmp-a"), new byte[] {1});
        Thread.currentThread().interrupt();
        try {
            DurableFiles.syncDirectory(dir);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        assertThat(Files.readAllBytes(dir.resolve("a.json"))).containsExactly(1);
    }
}
