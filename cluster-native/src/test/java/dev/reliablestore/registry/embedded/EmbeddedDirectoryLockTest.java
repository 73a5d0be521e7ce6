package dev.reliablestore.registry.embedded;

import dev.reliablestore.registry.RegistryUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One registry per directory, across processes: a refused second open in the same process must not
 * unlock the directory for other processes (closing any descriptor of a file drops the process's
 * record locks on it).
 */
class EmbeddedDirectoryLockTest {

    @TempDir
    Path tmp;

    @Test
    void aRefusedSecondOpenInThisProcessLeavesTheDirectoryLockedForOtherProcesses() throws Exception {
        Path dir = tmp.resolve("registry");
        Path link = Files.createSymbolicLink(tmp.resolve("link"), Files.createDirectories(dir));
        try (EmbeddedRegistry first = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT)) {
            assertThatThrownBy(() -> EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT))
                    .isInstanceOf(RegistryUnavailableException.class)
                    .hasMessageContaining("is already open in this process").hasMessageContaining(dir.toString());
            assertThatThrownBy(() -> EmbeddedRegistry.open(link, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT))
                    .as("the same directory through a symbolic link")
                    .isInstanceOf(RegistryUnavailableException.class)
                    .hasMessageContaining("is already open in this process");
            assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process after two refused opens here").isFalse();
            assertThat(first.checkHealth().healthy()).isTrue();
        }
        assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process once the registry is closed").isTrue();
        try (EmbeddedRegistry again = EmbeddedRegistry.open(link, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT)) {
            assertThat(again.checkHealth().healthy()).isTrue();
        }
    }

    /**
     * A registry of another class loader (or code of the application) holding the lock is not in
     * this class's table of held directories: the refused open must still leave its lock in place.
     */
    @Test
    void aRefusedOpenWhileOtherCodeOfThisProcessHoldsTheLockLeavesItHeld() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("registry"));
        try (FileChannel channel = FileChannel.open(dir.resolve(DirectoryLock.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock held = channel.lock()) {
            for (int attempt = 0; attempt < 2; attempt++) {
                assertThatThrownBy(() -> EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT))
                        .isInstanceOf(RegistryUnavailableException.class)
                        .hasMessageContaining("other code in this process holds a lock on it");
            }
            assertThat(held.isValid()).isTrue();
            assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process after two refused opens here").isFalse();
        }
        assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process once that code let go").isTrue();
        try (EmbeddedRegistry registry = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT)) {
            assertThat(registry.checkHealth().healthy()).isTrue();
            assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process while a registry holds it").isFalse();
        }
        assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process once the registry is closed").isTrue();
    }

    /**
     * The channel a refused open parked stands for its lock file only: once the directory was moved
     * aside and made anew, the next open locks the new directory's own lock file.
     */
    @Test
    void aDirectoryReplacedAfterARefusedOpenIsLockedThroughItsOwnLockFile() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("registry"));
        try (FileChannel channel = FileChannel.open(dir.resolve(DirectoryLock.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock held = channel.lock()) {
            assertThatThrownBy(() -> EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT))
                    .isInstanceOf(RegistryUnavailableException.class).hasMessageContaining("other code in this process holds a lock on it");
            assertThat(held.isValid()).isTrue();
        }
        Files.move(dir, tmp.resolve("registry.old"));
        Files.createDirectories(dir);
        try (EmbeddedRegistry registry = EmbeddedRegistry.open(dir, EmbeddedOptions.parse(Map.of()), ChannelFactory.DEFAULT)) {
            assertThat(dir.resolve(DirectoryLock.LOCK_FILE)).exists();
            assertThat(LockProbe.anotherProcessCouldLock(dir)).as("another process while the registry holds the new directory").isFalse();
            assertThat(registry.checkHealth().healthy()).isTrue();
        }
    }
}
