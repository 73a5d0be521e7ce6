package dev.reliablestore.spring.data;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.data.keyvalue.core.event.KeyValueEvent;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/** The application context the repository tests run in: a cluster-registry factory on an embedded registry in {@code dir}. */
final class RepositoryContexts {

    private RepositoryContexts() {
    }

    /**
     * Starts {@code application} (a configuration that enables the repositories) with a factory in
     * {@code dir}; every {@link KeyValueEvent} of the template goes to {@code onKeyValueEvent}.
     */
    static AnnotationConfigApplicationContext start(Path dir, Class<?> application, Consumer<KeyValueEvent<?>> onKeyValueEvent) {
        AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
        context.registerBean(StoreFactory.class, () -> Persistence.openFactory("cluster-registry", Map.of(
                "clusterName", "embedded:" + dir.resolve("registry"), "resourceGroupName", "RG", "registryKeyPath", "Software/App")));
        context.register(application);
        context.addApplicationListener(event -> {
            if (event instanceof KeyValueEvent<?> keyValue) {
                onKeyValueEvent.accept(keyValue);
            }
        });
        context.refresh();
        return context;
    }
}
