package dev.reliablestore.spring.data.sample;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.dao.OptimisticLockingFailureException;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spring.data.EnableReliableStoreRepositories;

/** Runs the repository sample of docs/spring.md and checks the page shows its entity and repository unchanged. */
class RepositorySampleTest {

    @Configuration(proxyBeanMethods = false)
    @EnableReliableStoreRepositories
    static class Application {
    }

    @TempDir
    Path dir;

    @Test
    void theSampleRepositorySavesFindsRefusesAStaleVersionAndDeletes() {
        try (AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext()) {
            context.registerBean(StoreFactory.class, () -> Persistence.openFactory("cluster-registry", Map.of(
                    "clusterName", "embedded:" + dir.resolve("data"), "resourceGroupName", "App-RG", "registryKeyPath", "Software/App/Data")));
            context.register(Application.class);
            context.refresh();
            Customers customers = context.getBean(Customers.class);
            Customer acme = customers.save(new Customer("CUST-001", "PREMIUM"));
            customers.save(new Customer("CUST-002", "BASIC"));
            assertThat(customers.findByTier("PREMIUM")).extracting(Customer::getId).containsExactly("CUST-001");
            Customer stale = customers.findById("CUST-001").orElseThrow();
            acme.setTier("ENTERPRISE");
            customers.save(acme);
            stale.setTier("BASIC");
            assertThatThrownBy(() -> customers.save(stale)).isInstanceOf(OptimisticLockingFailureException.class);
            assertThat(customers.deleteByTier("BASIC")).isEqualTo(1);
            assertThat(customers.findAll()).extracting(Customer::getId).containsExactly("CUST-001");
        }
    }

    @Test
    void thePageShowsTheEntityAndTheRepositoryUnchanged() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "spring.md"));
        for (String file : new String[] {"Customer.java", "Customers.java"}) {
            String source = Files.readString(Path.of("src/test/java/dev/reliablestore/spring/data/sample", file));
            String code = source.substring(source.indexOf("public "));
            assertThat(page).as(file).contains("```java\n" + code + "```\n");
        }
    }
}
