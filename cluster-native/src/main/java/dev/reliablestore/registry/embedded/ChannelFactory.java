package dev.reliablestore.registry.embedded;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/**
 * Opens the files the registry writes (log segments, snapshots) and says how much room they have.
 * The seam lets tests put a channel that fails like a full or broken disk in front of real files.
 */
@FunctionalInterface
interface ChannelFactory {

    ChannelFactory DEFAULT = FileChannel::open;

    FileChannel open(Path file, OpenOption... options) throws IOException;

    /** The bytes that files in {@code dir} may still take: what decides whether a spare log segment may be written. */
    default long usableSpace(Path dir) throws IOException {
        return Files.getFileStore(dir).getUsableSpace();
    }
}
