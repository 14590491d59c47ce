package jolokia

import (
	"regexp"
	"slices"
	"strconv"
)

// exec answers an exec request (ExecHandler).
func (h *Handler) exec(r *request) (any, error) {
	if r.op == nil {
		return nil, newJavaErr(classIllegalArgument, "No operation given for exec Request on MBean "+r.mbean.given)
	}
	mb, err := h.lookup(r.mbean)
	if err != nil {
		return nil, err
	}
	op, err := resolveOperation(r, mb)
	if err != nil {
		return nil, err
	}
	if (len(op.Params) > 0 && r.args == nil) || (r.args != nil && len(r.args) != len(op.Params)) {
		return nil, newJavaErr(classIllegalArgument, "Invalid number of operation arguments. Operation "+
			*r.op+" on "+r.mbean.given+" requires "+strconv.Itoa(len(op.Params))+
			" parameters, not "+strconv.Itoa(len(r.args))+" as given")
	}
	args := make([]any, len(op.Params))
	for i, t := range op.Params {
		if args[i], err = convertArg(t, r.args[i]); err != nil {
			return nil, err
		}
	}
	v, err := mb.Invoke(op, args)
	if err != nil {
		return nil, mbeanErr(err)
	}
	return v, nil
}

var (
	signatureRE = regexp.MustCompile(`^(.*)\((.*)\)$`)
	typeListRE  = regexp.MustCompile(`\s*,\s*`)
)

// resolveOperation picks the operation an exec names: "name" when not
// overloaded, else "name(type,...)".
func resolveOperation(r *request, mb MBean) (Operation, error) {
	name, types, hasSig := *r.op, []string(nil), false
	if m := signatureRE.FindStringSubmatch(name); m != nil {
		name, hasSig = m[1], true
		if m[2] != "" {
			types = javaSplit(m[2], typeListRE)
		}
	}
	var cands []Operation
	for _, op := range mb.Operations() {
		if op.Name == name {
			cands = append(cands, op)
		}
	}
	canonical := r.nameText()
	if len(cands) == 0 {
		return Operation{}, newJavaErr(classIllegalArgument, "No operation "+name+" found on MBean "+canonical)
	}
	if !hasSig {
		if len(cands) == 1 {
			return cands[0], nil
		}
		return Operation{}, newJavaErr(classIllegalArgument, "Operation "+name+" on MBean "+canonical+
			" is overloaded. Signatures found: "+signatureText(cands)+". Use a signature when specifying the operation.")
	}
	for _, op := range cands {
		if slices.Equal(op.Params, types) || (len(op.Params) == 0 && len(types) == 0) {
			return op, nil
		}
	}
	return Operation{}, newJavaErr(classIllegalArgument, "No operation "+*r.op+" on MBean "+canonical+
		" exists. Known signatures: "+signatureText(cands))
}

// javaSplit is String.split: trailing empty strings are removed.
func javaSplit(s string, re *regexp.Regexp) []string {
	parts := re.Split(s, -1)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
