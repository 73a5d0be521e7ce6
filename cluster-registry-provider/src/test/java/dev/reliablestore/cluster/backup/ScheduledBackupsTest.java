package dev.reliablestore.cluster.backup;

import dev.reliablestore.registry.ClusterRegistries;
import dev.reliablestore.registry.ClusterRegistry;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.WriteBatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** A scheduled run that fails, with an Error too, is retried at the next interval: the schedule never ends by itself. */
class ScheduledBackupsTest {

    @TempDir
    Path dir;

    @Test
    void aRunThatFailsWithAnErrorIsRetriedAtTheNextInterval() {
        RegistryPath root = RegistryPath.of("Store");
        try (ClusterRegistry real = ClusterRegistries.open("embedded:" + dir.resolve("registry"), Map.of())) {
            real.commit(WriteBatch.builder().setValue(root.child("Entities"), "a", RegistryValue.qword(1)).build());
            AtomicBoolean failOnce = new AtomicBoolean(true);
            ClusterRegistry failing = (ClusterRegistry) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ClusterRegistry.class},
                    (proxy, method, args) -> {
                        if (method.getName().equals("status") && failOnce.getAndSet(false)) {
                            throw new OutOfMemoryError("simulated: the run held the whole store");
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            try (ScheduledBackups backups = ScheduledBackups.start(failing, root, "node-1", dir, Duration.ofHours(1), 3)) {
                assertThat(backups.runOnce()).as("the failed run").isNull();
                assertThat(backups.runOnce()).as("the next run").isNotNull().exists();
            }
        }
    }
}
