"""ClusterNet's sparse epoch, its start from the graph, the merged decision and the k-center memory check."""

import networkx as nx
import numpy as np
import pytest
import torch
from torch_geometric.nn import GCNConv

import gnnsolve.adapters.kcenter as kcenter_module
from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.kcenter import KCenter
from gnnsolve.errors import ModelTooLargeError
from gnnsolve.nn.clusternet import (
    ClusterNet,
    GraphConvolution,
    normalized_adjacency,
    sparse_features,
    subspace_embedding,
)
from gnnsolve.samplers._common import available_memory
from gnnsolve.samplers.clusternet import ClusterNetSampler
from gnnsolve.search.clustering import modularity_moves

KARATE = nx.Graph(nx.karate_club_graph().edges())  # unweighted


def karate_edges() -> torch.Tensor:
    edges = torch.tensor(list(KARATE.edges())).T
    return torch.cat([edges, edges.flip(0)], dim=1)


@pytest.mark.parametrize(("width", "out"), [(3, 8), (12, 4)])
def test_graph_convolution_equals_pyg_gcnconv_forward_and_backward(width, out):
    torch.manual_seed(0)
    edge_index = karate_edges()
    ours, theirs = GraphConvolution(width, out), GCNConv(width, out)
    with torch.no_grad():
        theirs.lin.weight.copy_(ours.lin.weight)
        ours.bias.uniform_()
        theirs.bias.copy_(ours.bias)
    x = torch.rand(34, width)
    mine = ours(x, normalized_adjacency(edge_index, 34))
    reference = theirs(x, edge_index)
    assert torch.allclose(mine, reference, atol=1e-5)
    (mine**2).sum().backward()
    (reference**2).sum().backward()
    assert torch.allclose(ours.lin.weight.grad, theirs.lin.weight.grad, atol=1e-4)
    assert torch.allclose(ours.bias.grad, theirs.bias.grad, atol=1e-4)


def test_sparse_and_dense_features_give_the_same_epoch():
    """One training epoch (forward, modularity loss, backward) with features dense or in CSR form."""
    problem = Modularity(KARATE, k=3)
    adjacency = normalized_adjacency(karate_edges(), 34)
    features = (torch.rand(34, 40, generator=torch.Generator().manual_seed(1)) < 0.1).float()
    results = []
    for given in (features, sparse_features(features)):
        torch.manual_seed(0)
        net = ClusterNet(40, k=3, dropout=0.0)
        out = net(given, adjacency, iterations=2)
        loss = -problem.soft_objective(out.clusters.assignments)
        loss.backward()
        results.append((loss.detach(), net.conv1.lin.weight.grad.clone(), out.clusters.assignments.detach()))
    (dense_loss, dense_grad, dense_r), (sparse_loss, sparse_grad, sparse_r) = results
    assert torch.allclose(dense_loss, sparse_loss, atol=1e-6)
    assert torch.allclose(dense_grad, sparse_grad, atol=1e-5)
    assert torch.allclose(dense_r, sparse_r, atol=1e-5)


def test_network_given_an_edge_index_or_its_operator_embeds_alike():
    torch.manual_seed(0)
    net = ClusterNet(None, k=2, num_nodes=34).eval()
    edge_index = karate_edges()
    assert torch.allclose(net.encode(None, edge_index), net.encode(None, normalized_adjacency(edge_index, 34)))


def test_subspace_embedding_is_orthogonal_and_separates_components():
    cliques = nx.disjoint_union(nx.complete_graph(6), nx.complete_graph(6))
    edges = torch.tensor(list(cliques.edges())).T
    adjacency = normalized_adjacency(torch.cat([edges, edges.flip(0)], dim=1), 12)
    u = subspace_embedding(adjacency, 2, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(u.T @ u, 12 * torch.eye(2), atol=1e-3)
    assert torch.allclose(u[:6], u[0].expand(6, 2), atol=1e-3) and torch.allclose(u[6:], u[6].expand(6, 2), atol=1e-3)
    assert not torch.allclose(u[0], u[6], atol=1e-1)
    wide = subspace_embedding(adjacency, 20)  # more columns than nodes: the rest are zero
    assert wide.shape == (12, 20) and not wide[:, 12:].any()


def test_start_from_sets_the_table_and_picks_centres_among_the_embeddings():
    edge_index = karate_edges()
    adjacency = normalized_adjacency(edge_index, 34)
    nets = []
    for _ in range(2):
        torch.manual_seed(0)
        net = ClusterNet(None, k=4, num_nodes=34, embedding_dim=8, hidden=8)
        net.start_from(None, adjacency, torch.Generator().manual_seed(3))
        nets.append(net)
    first, second = nets
    assert torch.equal(first.centres, second.centres)
    table = first.node_embedding.weight.detach()
    assert torch.allclose(table.T @ table, 34 * torch.eye(8), atol=1e-3)
    with torch.no_grad():
        unit = torch.nn.functional.normalize(first.eval().encode(None, adjacency), dim=1)
    distances = torch.cdist(first.centres, unit)
    assert first.centres.shape == (4, 8) and bool((distances.min(dim=1).values < 1e-3).all())


def test_merges_only_unite_whole_clusters_and_never_lower_modularity():
    problem = Modularity(KARATE, k=8)
    labels = np.arange(34) % 8
    merged = modularity_moves(problem.adjacency, labels, 8, moves=False)
    for cluster in set(labels.tolist()):
        assert len(set(merged[labels == cluster].tolist())) == 1  # no cluster is split
    nodes = problem.nodes
    assert problem.evaluate(dict(zip(nodes, merged.tolist()))) >= problem.evaluate(dict(zip(nodes, labels.tolist())))


def test_decision_merges_the_argmax_clusters_and_reports_the_argmax_energy():
    sampleset = ClusterNetSampler().sample(Modularity(KARATE, k=10), seed=0, epochs=30, num_reads=2)
    argmax = sampleset.info["argmax_energy"]
    assert len(argmax) == 2
    assert all(energy <= before + 1e-12 for energy, before in zip(sampleset.record.energy, argmax))


def test_kcenter_refuses_distances_that_would_not_fit(monkeypatch):
    monkeypatch.setattr(kcenter_module, "available_memory", lambda: 24 * 30**2)  # 30 nodes' worth
    KCenter(nx.path_graph(30), 2)
    with pytest.raises(ModelTooLargeError, match=r"k-center on 31 nodes.*about 30 nodes"):
        KCenter(nx.path_graph(31), 2)


def test_clusternet_refuses_kcenter_training_that_would_not_fit(monkeypatch):
    problem = KCenter(nx.path_graph(40), 2)
    monkeypatch.setattr(kcenter_module, "available_memory", lambda: 50 * 40**2)  # the distances fit, training does not
    with pytest.raises(ModelTooLargeError, match="ClusterNet's k-center training tensors"):
        ClusterNetSampler().sample(problem, epochs=5, seed=0)
    with pytest.raises(ModelTooLargeError):
        ClusterNetSampler().fit([problem], features=[np.ones((40, 2))], epochs=5)
    monkeypatch.setattr(kcenter_module, "available_memory", available_memory)
    assert ClusterNetSampler().sample(problem, epochs=5, seed=0).first.energy < 40


def test_a_planted_partition_is_recovered_from_the_graph_alone():
    """Without features the network starts from the graph's spectral embedding: the paper's random
    start merged every node of a 20,000-node planted partition into one cluster."""
    planted = nx.planted_partition_graph(8, 150, 0.06, 0.003, seed=2)
    G = nx.Graph()
    G.add_nodes_from(planted)
    G.add_edges_from(planted.edges)
    truth = Modularity(G, 8).evaluate({v: planted.nodes[v]["block"] for v in planted})
    sampleset = ClusterNetSampler().sample(Modularity(G, 8), seed=0, epochs=150)
    assert -sampleset.first.energy >= 0.95 * truth
