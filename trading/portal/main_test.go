package portal

import (
	"testing"

	"github.com/ggzy/ggzy/cmd/ggzy/stack/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
