package dev.reliablestore.cli;

import java.nio.file.Path;
import java.util.Map;

/** Which provider the demo runs on, and with what configuration. */
record DemoStore(String provider, Map<String, String> configuration, String description) {

    static DemoStore open(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        return new DemoStore("file", Map.of("file.directory", abs.toString()),
                "one fsync'ed JSON document per entity in " + abs);
    }
}
