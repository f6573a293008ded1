package wire

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// featuresService answers ServerFeatures.GetSupportedMethods with exactly
// the RPCs this package implements, named as KurrentDB names them
// (lower-case service and method), so the client enables nothing else
// (no batch append, no persistent subscriptions).
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

// GetSupportedMethods implements serverfeatures.ServerFeaturesServer.
func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	streamsService := strings.ToLower(streams.Streams_ServiceDesc.ServiceName)
	method := func(service, name string, features ...string) *serverfeatures.SupportedMethod {
		return &serverfeatures.SupportedMethod{MethodName: name, ServiceName: service, Features: features}
	}
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: ServerVersion,
		Methods: []*serverfeatures.SupportedMethod{
			method(streamsService, "read", "position", "events"),
			method(streamsService, "append"),
			method(streamsService, "delete"),
			method(streamsService, "tombstone"),
			method(strings.ToLower(serverfeatures.ServerFeatures_ServiceDesc.ServiceName), "getsupportedmethods"),
			method(strings.ToLower(gossip.Gossip_ServiceDesc.ServiceName), "read"),
		},
	}, nil
}

// gossipService describes a cluster of one: this node, the leader, so that
// esdb+discover:// connection strings work against the server.
type gossipService struct {
	gossip.UnimplementedGossipServer
	server *Server
}

// Read implements gossip.GossipServer.
func (g *gossipService) Read(ctx context.Context, _ *shared.Empty) (*gossip.ClusterInfo, error) {
	self, err := g.server.endpointFor(ctx)
	if err != nil {
		return nil, err
	}
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   uuidToProto(g.server.instanceID, false),
		TimeStamp:    dotNetTicks(time.Now()),
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: self.host, Port: self.port},
	}}}, nil
}

// endpointFor is the address to advertise to the caller: the configured one,
// else the address the caller dialled (its :authority), else the local
// address of its connection. The client compares the answer with the address
// it dialled and reconnects when they differ, so echoing the authority keeps
// its first connection.
func (s *Server) endpointFor(ctx context.Context) (endpoint, error) {
	if s.advertised != nil {
		return *s.advertised, nil
	}
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if authority := md.Get(":authority"); len(authority) > 0 {
			if e, ok := parseEndpoint(authority[0]); ok {
				return e, nil
			}
		}
	}
	if p, ok := peer.FromContext(ctx); ok && p.LocalAddr != nil {
		if e, ok := parseEndpoint(p.LocalAddr.String()); ok {
			return e, nil
		}
	}
	return endpoint{}, status.Error(codes.Unavailable, "cannot tell which address to advertise")
}

// parseEndpoint splits host:port; an IPv6 host keeps its brackets because
// the client joins host and port with a bare colon.
func parseEndpoint(hostPort string) (endpoint, bool) {
	host, portText, err := net.SplitHostPort(hostPort)
	if err != nil {
		return endpoint{}, false
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || host == "" {
		return endpoint{}, false
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return endpoint{host: host, port: uint32(port)}, true
}
