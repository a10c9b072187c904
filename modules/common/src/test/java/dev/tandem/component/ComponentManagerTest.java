package dev.tandem.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tandem.cluster.ClusterService;
import dev.tandem.cluster.CommitRequest;
import dev.tandem.cluster.ConfigVersion;
import dev.tandem.cluster.Membership;
import dev.tandem.cluster.ObservedState;
import dev.tandem.config.ClusterConfig;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ComponentManagerTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final FakeCluster cluster = new FakeCluster();
    private final ComponentContext context = new ComponentContext(null, cluster, null);

    private Component component(String name, boolean failsToStart) {
        return new Component() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public void start(ComponentContext ctx) throws Exception {
                if (failsToStart) throw new IllegalStateException(name + " cannot bind");
                events.add("start " + name);
            }

            @Override
            public void apply(ConfigVersion version) {
                events.add(name + " applies " + version.version());
            }

            @Override
            public void stop() {
                events.add("stop " + name);
            }
        };
    }

    @Test
    void startsInOrderStopsInReverseAndDeliversNewVersions() throws Exception {
        ComponentManager manager = new ComponentManager();
        manager.start(List.of(component("a", false), component("b", false)), context);
        cluster.apply(version(2));
        org.awaitility.Awaitility.await().until(() -> events.contains("a applies 2") && events.contains("b applies 2"));
        manager.close();
        assertThat(events).containsSubsequence("start a", "start b", "stop b", "stop a");
        // coalescing: version 1 may be skipped when 2 is already there, but nothing older follows something newer
        assertThat(events).doesNotContainSubsequence("a applies 2", "a applies 1");
    }

    @Test
    void aFailedStartStopsWhatAlreadyStarted() {
        ComponentManager manager = new ComponentManager();
        assertThatThrownBy(() -> manager.start(
                        List.of(component("a", false), component("b", true), component("c", false)), context))
                .hasMessage("b cannot bind");
        assertThat(events).contains("start a", "stop a").doesNotContain("start c");
    }

    private static ConfigVersion version(long n) {
        return new ConfigVersion(n, new ClusterConfig(1, null, null, null, null, null, null, null, null), "t", "t", Instant.EPOCH, null);
    }

    private static final class FakeCluster implements ClusterService {
        private final List<Consumer<ConfigVersion>> listeners = new CopyOnWriteArrayList<>();
        private volatile ConfigVersion running = version(1);

        void apply(ConfigVersion v) {
            running = v;
            listeners.forEach(l -> l.accept(v));
        }

        @Override
        public String nodeName() {
            return "n1";
        }

        @Override
        public ConfigVersion running() {
            return running;
        }

        @Override
        public ConfigVersion commit(CommitRequest request) {
            throw new IllegalStateException("not used");
        }

        @Override
        public ConfigVersion sync() {
            return running;
        }

        @Override
        public Membership membership() {
            return new Membership(List.of(), null, false);
        }

        @Override
        public ObservedState observed() {
            return null;
        }

        @Override
        public void addConfigListener(Consumer<ConfigVersion> listener) {
            listeners.add(listener);
        }
    }
}
