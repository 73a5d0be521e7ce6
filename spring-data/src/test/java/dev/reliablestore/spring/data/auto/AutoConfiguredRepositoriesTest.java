package dev.reliablestore.spring.data.auto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurationPackage;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.dao.OptimisticLockingFailureException;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spring.data.EnableReliableStoreRepositories;
import dev.reliablestore.spring.data.ReliableStoreRepositoriesAutoConfiguration;
import dev.reliablestore.spring.data.sample.Customers;

/** Repositories found under Boot's auto-configuration packages, in real contexts over the embedded registry in a temp directory. */
class AutoConfiguredRepositoriesTest {

    @TempDir
    Path dir;

    /** What @SpringBootApplication marks: this package is the application's. */
    @Configuration(proxyBeanMethods = false)
    @AutoConfigurationPackage
    static class Application {
    }

    /** The application asks for the repositories of another package itself. */
    @Configuration(proxyBeanMethods = false)
    @AutoConfigurationPackage
    @EnableReliableStoreRepositories(basePackageClasses = Customers.class)
    static class OwnRepositories {
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(ReliableStoreRepositoriesAutoConfiguration.class));
    }

    private StoreFactory factory() {
        return Persistence.openFactory("cluster-registry", Map.of("clusterName", "embedded:" + dir.resolve("data"),
                "resourceGroupName", "App-RG", "registryKeyPath", "Software/App"));
    }

    @Test
    void repositoriesOfTheApplicationsPackageWorkWithoutTheAnnotation() {
        runner().withUserConfiguration(Application.class).withBean(StoreFactory.class, this::factory).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(Notes.class).doesNotHaveBean(Customers.class);
            Notes notes = context.getBean(Notes.class);
            Note first = notes.save(new Note("n1", "hello"));
            assertThat(first.getVersion()).isEqualTo(1L);
            Note stale = notes.findById("n1").orElseThrow();
            first.setText("hello again");
            notes.save(first);
            stale.setText("lost update");
            assertThatThrownBy(() -> notes.save(stale)).isInstanceOf(OptimisticLockingFailureException.class);
            assertThat(context.getBean(StoreFactory.class).store(Note.class).get("n1")).hasValueSatisfying(v ->
                    assertThat(v.value().getText()).isEqualTo("hello again"));
        });
    }

    @Test
    void backsOffWhenTheApplicationDeclaresTheAnnotation() {
        runner().withUserConfiguration(OwnRepositories.class).withBean(StoreFactory.class, this::factory).run(context ->
                assertThat(context).hasNotFailed().hasSingleBean(Customers.class).doesNotHaveBean(Notes.class));
    }

    @Test
    void nothingWithoutAStoreFactoryOrWhenSwitchedOff() {
        runner().withUserConfiguration(Application.class).run(context ->
                assertThat(context).hasNotFailed().doesNotHaveBean(Notes.class));
        runner().withUserConfiguration(Application.class).withBean(StoreFactory.class, this::factory)
                .withPropertyValues("reliablestore.repositories.enabled=false").run(context ->
                        assertThat(context).hasNotFailed().doesNotHaveBean(Notes.class));
    }
}
